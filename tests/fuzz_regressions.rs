//! The fuzz targets (see `fuzz/`) on every shipped content file and on a
//! deterministic stream of mutations of them, so every test run exercises
//! the same code the fuzzer does. Crashes the fuzzer finds are added below
//! as regression inputs.

use practice_site::fuzzing;

/// Inputs that once crashed a target, or that probe a known edge.
const REGRESSIONS: &[&[u8]] = &[
    b"---\n---\n",
    b"---\r\n---\r\n",
    b"---\ntitle: [\n---\n",
    b"---\ndate: \xff\xfe\n---\n",
    b"---\ntitle: a\n---\n[x](#)\n[](../../../../x.md)\n![](\n",
    b"---\n---\n| a |\n|---|\n| \xf0\x9f\x91\x89 |\n[^1]\n\n[^1]: [y](guide.md#nope)\n",
    b"---\n---\n# \n## {#}\n###### x {#a b}\n",
    b"---\n---\n<a href=\"javascript:x\" onmouseover=x>\n<img src=//x>\n",
    b"---\n---\n{{consultation_minutes}} {{ }} {{",
    // Raw HTML read as a browser reads it: unclosed quotes and comments,
    // references cut short or too large, a tag at the very end.
    b"---\n---\n<div\nonclick='x\n\n<a href=\"&#\">&#x;&#99999999999999;&colon\n<img src=\"\\\\",
    b"---\n---\n<!-- <img onerror=x>\n<p a= b=\"\xc3\xa9\" c='>'/ d \xe2\x80\x94=\x00>\n<",
    b"slot=1&slot=2&name=%ff%fe&email=a%40b.c%0d%0aBcc:x",
    b"name=\x00\x01&note=%00&consent=yes&topic=kap&contact=email",
    b"slot=-9223372036854775808&name=a",
    b"slot=99999999999999999999999&email=@",
    b"=&&=&%&%%",
];

const TOKENS: &[&[u8]] = &[
    b"---\n",
    b"\n",
    b"[",
    b"](",
    b")",
    b"#",
    b"{#",
    b"}",
    b"{{",
    b"}}",
    b"\r",
    b"\0",
    b"\xff",
    b"![",
    b"|",
    b"[^1]",
    b"<script>",
    b"&",
    b"=",
    b"%0a",
    b"%ff",
    b"title:",
    b"date:",
    b".md",
];

/// A small deterministic generator: the same stream on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(seed: &[u8], random: &mut XorShift) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=random.below(4) {
        let at = random.below(data.len() + 1);
        match random.below(3) {
            0 => {
                let token = TOKENS[random.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            1 if !data.is_empty() => {
                let end = (at + random.below(16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            _ => {
                if let Some(byte) = data.get_mut(at) {
                    *byte ^= 1 << random.below(8);
                }
            }
        }
    }
    data
}

fn shipped_content() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let mut files = Vec::new();
    for folder in ["blog", "pages"] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            files.push(std::fs::read(entry.unwrap().path()).unwrap());
        }
    }
    files
}

#[test]
fn the_content_target_survives_the_shipped_files_and_their_mutations() {
    let seeds: Vec<Vec<u8>> = shipped_content()
        .into_iter()
        .chain(REGRESSIONS.iter().map(|r| r.to_vec()))
        .collect();
    let mut random = XorShift(0x5eed_cafe);
    for seed in &seeds {
        fuzzing::content_file(seed);
    }
    for _ in 0..3_000 {
        let seed = &seeds[random.below(seeds.len())];
        fuzzing::content_file(&mutate(seed, &mut random));
    }
}

/// The fuzz target runs the load of one file, so it reads `slug:` as the
/// site does: a YAML comment after the value is not part of it.
#[test]
fn the_content_target_reads_the_slug_as_yaml_does() {
    let file = b"---\ntitle: A guide\ndescription: d\ndate: 2025-01-01\nslug: a-guide # note\n---\n\nText, then [book a consultation](../pages/consultation.md).\n";
    let problems = fuzzing::content_file(file);
    assert!(!problems.has_errors(), "{problems}");
    let bad = b"---\ntitle: A guide\ndescription: d\ndate: 2025-01-01\nslug: A Guide # note\n---\n\nText.\n";
    let problems = fuzzing::content_file(bad);
    let errors: Vec<_> = problems.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 1, "{problems}");
    assert_eq!(errors[0].line, 5, "{problems}");
    assert!(
        errors[0]
            .message
            .starts_with("`A Guide` cannot be part of an address"),
        "{problems}"
    );
}

#[test]
fn the_booking_form_target_survives_hostile_bodies_and_their_mutations() {
    let good = b"slot=1900000000&name=Jane+Doe&email=jane%40example.org&phone=&contact=email&topic=kap&note=Evenings&consent=yes&token=t&website=".to_vec();
    let seeds: Vec<Vec<u8>> = std::iter::once(good)
        .chain(REGRESSIONS.iter().map(|r| r.to_vec()))
        .collect();
    let mut random = XorShift(0xf00d_f00d);
    for seed in &seeds {
        fuzzing::booking_form(seed);
    }
    for _ in 0..20_000 {
        let seed = &seeds[random.below(seeds.len())];
        fuzzing::booking_form(&mutate(seed, &mut random));
    }
}
