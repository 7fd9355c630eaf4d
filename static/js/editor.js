// The editor's help when JavaScript runs (everything works without it):
// the preview follows typing, a problem's link moves the cursor to its line,
// and rich text pasted from Google Docs or Word becomes clean Markdown.
"use strict";
(function () {
  var form = document.querySelector(".editor-form");
  var text = document.getElementById("field-text");
  var pane = document.querySelector(".editor-preview-body");
  if (!form || !text || !pane) return;

  // The preview, half a second after typing stops; an answer that arrives
  // after a newer request was sent is dropped.
  var timer = null;
  var sent = 0;
  function refresh() {
    var number = ++sent;
    var body = new URLSearchParams();
    body.set("text", text.value);
    body.set("token", form.elements.token.value);
    fetch(form.dataset.preview, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        if (number === sent) pane.innerHTML = html;
      })
      .catch(function () {
        if (number !== sent) return;
        var note = document.createElement("p");
        note.className = "editor-problems";
        note.textContent = "The preview could not be updated (are you still logged in?). Your text is safe here; use Preview or Save.";
        pane.replaceChildren(note);
      });
  }
  text.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  });

  // Leaving the page (a link, the address form, closing the tab) with text
  // not saved asks first; saving or previewing it does not.
  var saved = text.value;
  window.addEventListener("beforeunload", function (event) {
    if (text.value !== saved) event.preventDefault();
  });
  form.addEventListener("submit", function () { saved = text.value; });

  // A problem's "Line N" puts the cursor at the start of that line.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-line]");
    if (!link) return;
    event.preventDefault();
    var line = parseInt(link.dataset.line, 10) || 1;
    var lines = text.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    text.focus();
    text.setSelectionRange(offset, offset);
    var height = parseFloat(getComputedStyle(text).lineHeight) || 20;
    text.scrollTop = Math.max(0, (line - 3) * height);
  });

  // Pasted rich text: headings, bold, italics, links and lists become
  // Markdown; anything else becomes its plain text.
  text.addEventListener("paste", function (event) {
    var data = event.clipboardData;
    var html = data && data.getData("text/html");
    // Text copied from a code editor (Markdown itself, say) comes as
    // monospace HTML: it is pasted as the plain text it is.
    if (!html || /monospace|<pre[\s>]/i.test(html)) return;
    var markdown = toMarkdown(new DOMParser().parseFromString(html, "text/html").body);
    if (!markdown) return;
    event.preventDefault();
    // execCommand keeps the browser's undo; setRangeText where it is gone.
    if (!document.execCommand("insertText", false, markdown)) {
      text.setRangeText(markdown, text.selectionStart, text.selectionEnd, "end");
      text.dispatchEvent(new Event("input"));
    }
  });

  // A photo: the page sends it itself and puts its line at the cursor, on
  // a line of its own; the form's status line says what happened. Without
  // this, the form opens the photos page in a new tab.
  var photoForm = document.querySelector(".editor-image .image-form");
  var cursor = null;
  text.addEventListener("blur", function () {
    cursor = [text.selectionStart, text.selectionEnd];
  });
  if (photoForm) {
    var status = photoForm.querySelector(".image-form-status");
    status.textContent = "";
    photoForm.removeAttribute("target");
    photoForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = photoForm.querySelector("button");
      button.disabled = true;
      status.textContent = "Adding the photo…";
      fetch(photoForm.action, {
        method: "POST",
        body: new FormData(photoForm),
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          return response.json().catch(function () {
            return { error: response.status === 413
              ? "The file is larger than 10 MB; export the photo smaller and try again."
              : "The photo could not be added (are you still logged in?). Your text is safe here." };
          });
        })
        .then(function (answer) {
          if (answer.error) {
            status.textContent = answer.error;
            return;
          }
          var at = cursor || [text.value.length, text.value.length];
          var before = text.value.slice(0, at[0]);
          var gap = !before || /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
          var line = gap + answer.markdown + "\n\n";
          text.focus();
          text.setSelectionRange(at[0], at[1]);
          if (!document.execCommand("insertText", false, line)) {
            text.setRangeText(line, at[0], at[1], "end");
            text.dispatchEvent(new Event("input"));
          }
          photoForm.reset();
          status.textContent = "The photo is in your text as images/" + answer.name + ". Save to publish it.";
        })
        .catch(function () {
          status.textContent = "The photo could not be sent. Your text is safe here; try again.";
        })
        .finally(function () { button.disabled = false; });
    });
  }

  function toMarkdown(root) {
    var out = blocks(root, "").replace(/\n{3,}/g, "\n\n").trim();
    return out;
  }

  // Block-level content: paragraphs, headings and lists, separated by blank lines.
  function blocks(node, indent) {
    var out = "";
    var inline = "";
    function flush() {
      if (inline.trim()) out += indent + inline.trim().replace(/\s*\n\s*/g, "\n" + indent) + "\n\n";
      inline = "";
    }
    node.childNodes.forEach(function (child) {
      var tag = child.nodeType === 1 ? child.tagName.toLowerCase() : "";
      var level = /^h([1-6])$/.exec(tag);
      if (level) {
        flush();
        // The page's title is its `title:`; headings in the text start at ##.
        var depth = Math.min(6, Math.max(2, +level[1] + 1));
        out += "#".repeat(depth) + " " + inlines(child).trim() + "\n\n";
      } else if (tag === "ul" || tag === "ol") {
        flush();
        out += list(child, tag === "ol", indent) + "\n";
      } else if (tag === "p" || tag === "div" || tag === "blockquote" || tag === "section" || tag === "article" || tag === "table" || tag === "tr") {
        flush();
        out += blocks(child, indent);
      } else if (tag === "br") {
        inline += "\n";
      } else if (tag === "style" || tag === "script" || tag === "meta" || tag === "title") {
        // Never text.
      } else if (tag === "b" && /^docs-internal-guid/.test(child.id || "")) {
        // Google Docs wraps a whole paste in a <b> that is not bold.
        flush();
        out += blocks(child, indent);
      } else {
        inline += child.nodeType === 1 ? inlines(child) : clean(child.textContent);
      }
    });
    flush();
    return out;
  }

  function list(node, ordered, indent) {
    var out = "";
    var number = 1;
    node.childNodes.forEach(function (item) {
      if (item.nodeType !== 1) return;
      var tag = item.tagName.toLowerCase();
      if (tag === "ul" || tag === "ol") {
        out += list(item, tag === "ol", indent + "  ");
        return;
      }
      var marker = ordered ? number++ + ". " : "- ";
      var nested = "";
      var own = "";
      item.childNodes.forEach(function (part) {
        var partTag = part.nodeType === 1 ? part.tagName.toLowerCase() : "";
        if (partTag === "ul" || partTag === "ol") nested += list(part, partTag === "ol", indent + "  ");
        else own += part.nodeType === 1 ? inlines(part) : clean(part.textContent);
      });
      out += indent + marker + own.trim() + "\n" + nested;
    });
    return out;
  }

  // Inline content: bold, italics and links, from tags or from the inline
  // styles Google Docs and Word use.
  function inlines(node) {
    if (node.nodeType === 3) return clean(node.textContent);
    if (node.nodeType !== 1) return "";
    var tag = node.tagName.toLowerCase();
    if (tag === "br") return "\n";
    if (tag === "style" || tag === "script") return "";
    var inner = "";
    node.childNodes.forEach(function (child) { inner += inlines(child); });
    if (!inner.trim()) return inner;
    // The style attribute read as text: the page's CSP keeps the browser
    // from applying inline styles, even in a parsed copy.
    var style = node.getAttribute("style") || "";
    var weight = /font-weight\s*:\s*([a-z0-9]+)/i.exec(style);
    var bold = tag === "strong" || (tag === "b" && !(weight && weight[1] === "normal")) ||
      (!!weight && (weight[1] === "bold" || +weight[1] >= 600));
    var italic = tag === "em" || tag === "i" || /font-style\s*:\s*italic/i.test(style);
    if (tag === "a" && /^(https?:|mailto:|tel:|\/|#)/i.test(node.getAttribute("href") || "")) {
      return "[" + inner.trim() + "](" + node.getAttribute("href") + ")";
    }
    var lead = inner.match(/^\s*/)[0];
    var trail = inner.match(/\s*$/)[0];
    var core = inner.trim();
    if (bold) core = "**" + core + "**";
    if (italic) core = "*" + core + "*";
    return lead + core + trail;
  }

  // Text as Markdown would read it literally: no stray markup characters,
  // non-breaking spaces as spaces.
  function clean(value) {
    return value.replace(/\u00a0/g, " ").replace(/([\\`*_\[\]<>])/g, "\\$1");
  }
})();
