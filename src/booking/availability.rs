//! Which consultation times are open: a pure function of the `[booking]`
//! settings, the consultation's length, the consultations already booked and
//! "now". Times are generated in the practice's time zone (so 9:00 stays 9:00
//! across daylight-saving changes) and handled as UTC instants everywhere else.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::rules::BookingRules;

/// One bookable time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// A busy time: a consultation already booked, or an event of her own
/// calendar, as far as availability cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// What the database must re-check, inside the booking's transaction, for a
/// slot to be taken: nothing booked and no time off overlapping
/// `[conflict_from, conflict_to)`, and fewer than `daily_maximum` consultations in `[day_from, day_to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub conflict_from: DateTime<Utc>,
    pub conflict_to: DateTime<Utc>,
    pub day_from: DateTime<Utc>,
    pub day_to: DateTime<Utc>,
    pub daily_maximum: u32,
}

/// Why a slot of her weekly hours is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// Sooner than the minimum notice.
    TooSoon,
    /// On a day blocked in `site.toml`.
    DayBlocked,
    /// Its day already has `daily_maximum` consultations.
    DayFull,
    /// Too close to a consultation, her own calendar or her time off.
    Busy,
}

/// Every open slot from now to `days_ahead` days ahead, earliest first.
/// `booked` are consultations (they count towards the daily maximum);
/// `blocked` is everything else that closes a time: her own calendar's
/// events and the time off she entered on the dashboard.
pub fn open_slots(
    rules: &BookingRules,
    minutes: u32,
    booked: &[Busy],
    blocked: &[Busy],
    now: DateTime<Utc>,
) -> Vec<Slot> {
    slots_in_hours(rules, minutes, now)
        .into_iter()
        .filter(|slot| why_closed(rules, slot, booked, blocked, now).is_none())
        .collect()
}

/// Why `slot` is not offered, or `None` when it is open.
pub fn why_closed(
    rules: &BookingRules,
    slot: &Slot,
    booked: &[Busy],
    blocked: &[Busy],
    now: DateTime<Utc>,
) -> Option<Closed> {
    let date = local_date(rules, slot.start);
    if rules.blocked_dates.contains(&date) {
        return Some(Closed::DayBlocked);
    }
    // Taken before too soon: the dashboard offers a too-soon time for a
    // consultation arranged by phone, so it must not be taken.
    if booked
        .iter()
        .chain(blocked)
        .any(|busy| overlaps(rules, slot, busy))
    {
        return Some(Closed::Busy);
    }
    if slot.start < now + rules.minimum_notice {
        return Some(Closed::TooSoon);
    }
    let (day_from, day_to) = day_bounds(rules, date);
    let booked_that_day = booked
        .iter()
        .filter(|b| b.start >= day_from && b.start < day_to)
        .count();
    (booked_that_day >= rules.daily_maximum as usize).then_some(Closed::DayFull)
}

/// Every slot her weekly hours give from today to `days_ahead` days ahead,
/// earliest first, offered or not (the dashboard shows them all).
pub fn slots_in_hours(rules: &BookingRules, minutes: u32, now: DateTime<Utc>) -> Vec<Slot> {
    let length = Duration::minutes(minutes.into());
    let step = length + rules.buffer;
    let today = local_date(rules, now);
    let mut slots = Vec::new();
    for offset in 0..=rules.days_ahead {
        let Some(date) = today.checked_add_days(chrono::Days::new(offset.into())) else {
            break;
        };
        for &(from, to) in rules.hours_on(date.weekday()) {
            let mut local = date.and_time(from);
            let close = date.and_time(to);
            while local + length <= close {
                if let Some(start) = to_utc(rules, local) {
                    slots.push(Slot {
                        start,
                        end: start + length,
                    });
                }
                local += step;
            }
        }
    }
    slots.sort();
    slots.dedup();
    slots
}

/// Whether `slot` is too close to a booked consultation (buffer included).
pub fn overlaps(rules: &BookingRules, slot: &Slot, busy: &Busy) -> bool {
    slot.start < busy.end + rules.buffer && busy.start < slot.end + rules.buffer
}

/// Whether two spans share any time, no buffer added (touching is not
/// overlapping): how the dashboard finds a booking that clashes.
pub fn overlaps_strictly(
    a: (DateTime<Utc>, DateTime<Utc>),
    b: (DateTime<Utc>, DateTime<Utc>),
) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// Why a booked time no longer fits the rules (a day since blocked, hours
/// since changed), in words for the therapist; `None` when it still fits.
pub fn no_longer_fits(rules: &BookingRules, slot: &Slot) -> Option<&'static str> {
    let start = slot.start.with_timezone(&rules.time_zone);
    let end = slot.end.with_timezone(&rules.time_zone);
    let date = start.date_naive();
    if rules.blocked_dates.contains(&date) {
        return Some("on a day now blocked in site.toml");
    }
    let within_hours = end.date_naive() == date
        && rules
            .hours_on(date.weekday())
            .iter()
            .any(|&(from, to)| start.time() >= from && end.time() <= to);
    (!within_hours).then_some("outside the weekly hours in site.toml")
}

/// The instants between which booked consultations can affect today's slots.
pub fn search_window(rules: &BookingRules, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = local_date(rules, now);
    let last = today
        .checked_add_days(chrono::Days::new(u64::from(rules.days_ahead) + 1))
        .unwrap_or(today);
    (day_bounds(rules, today).0, day_bounds(rules, last).1)
}

/// What must still hold, when the slot is written, for `slot` to be booked.
pub fn guard(rules: &BookingRules, slot: &Slot) -> Guard {
    let (day_from, day_to) = day_bounds(rules, local_date(rules, slot.start));
    Guard {
        conflict_from: slot.start - rules.buffer,
        conflict_to: slot.end + rules.buffer,
        day_from,
        day_to,
        daily_maximum: rules.daily_maximum,
    }
}

/// The practice's calendar day of an instant.
pub fn local_date(rules: &BookingRules, instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&rules.time_zone).date_naive()
}

/// Local midnight to the next local midnight, as UTC instants (23 or 25
/// hours apart on the days the clocks change).
pub fn day_bounds(rules: &BookingRules, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start_of = |date: NaiveDate| {
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        // Where a zone skips midnight itself, the day starts an hour later.
        to_utc(rules, midnight)
            .or_else(|| to_utc(rules, midnight + Duration::hours(1)))
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
    };
    let next = date.succ_opt().unwrap_or(date);
    (start_of(date), start_of(next))
}

/// A local wall-clock time as an instant. A time skipped by the spring
/// change does not exist and has no slot; a time repeated by the autumn
/// change is taken at its first occurrence.
fn to_utc(rules: &BookingRules, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    rules
        .time_zone
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// "Tuesday, March 10"
pub fn day_label(date: NaiveDate) -> String {
    date.format("%A, %B %-d").to_string()
}

/// "9:30 AM", in the practice's time zone.
pub fn time_label(rules: &BookingRules, instant: DateTime<Utc>) -> String {
    instant
        .with_timezone(&rules.time_zone)
        .format("%-I:%M %p")
        .to_string()
}

/// "Tuesday, March 10, 2026 at 9:30 AM Pacific Time"
pub fn describe(rules: &BookingRules, instant: DateTime<Utc>) -> String {
    let local = instant.with_timezone(&rules.time_zone);
    format!(
        "{} at {} {}",
        local.format("%A, %B %-d, %Y"),
        local.format("%-I:%M %p"),
        rules.time_zone_label
    )
}

/// The open slots grouped by the practice's calendar day, in order.
pub fn by_day(rules: &BookingRules, slots: &[Slot]) -> Vec<(NaiveDate, Vec<Slot>)> {
    let mut days: Vec<(NaiveDate, Vec<Slot>)> = Vec::new();
    for slot in slots {
        let date = local_date(rules, slot.start);
        match days.last_mut() {
            Some((day, list)) if *day == date => list.push(*slot),
            _ => days.push((date, vec![*slot])),
        }
    }
    days
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, Weekday};

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap()
    }

    /// Every day 09:00-12:00, 30 days ahead, no notice, no buffer.
    fn rules() -> BookingRules {
        let mut rules = BookingRules {
            minimum_notice: Duration::zero(),
            days_ahead: 30,
            daily_maximum: 100,
            ..BookingRules::default()
        };
        for day in &mut rules.hours {
            day.push((time("09:00"), time("12:00")));
        }
        rules
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn local_times(rules: &BookingRules, slots: &[Slot], date: NaiveDate) -> Vec<String> {
        slots
            .iter()
            .filter(|s| local_date(rules, s.start) == date)
            .map(|s| time_label(rules, s.start))
            .collect()
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn slots_follow_the_local_clock_across_spring_forward() {
        // 2026-03-08 is the spring change in Los Angeles (PST -> PDT).
        let rules = rules();
        let now = utc("2026-03-06T00:00:00Z");
        let slots = open_slots(&rules, 60, &[], &[], now);
        for day in ["2026-03-07", "2026-03-08", "2026-03-09"] {
            assert_eq!(
                local_times(&rules, &slots, date(day)),
                ["9:00 AM", "10:00 AM", "11:00 AM"],
                "{day}"
            );
        }
        let nine = |day: &str| {
            slots
                .iter()
                .find(|s| local_date(&rules, s.start) == date(day))
                .unwrap()
                .start
        };
        assert_eq!(
            nine("2026-03-07"),
            utc("2026-03-07T17:00:00Z"),
            "PST is UTC-8"
        );
        assert_eq!(
            nine("2026-03-09"),
            utc("2026-03-09T16:00:00Z"),
            "PDT is UTC-7"
        );
        // The day of the change is 23 hours long.
        let (from, to) = day_bounds(&rules, date("2026-03-08"));
        assert_eq!(to - from, Duration::hours(23));
    }

    #[test]
    fn slots_follow_the_local_clock_across_fall_back() {
        // 2026-11-01 is the autumn change (PDT -> PST).
        let rules = rules();
        let slots = open_slots(&rules, 60, &[], &[], utc("2026-10-30T00:00:00Z"));
        for day in ["2026-10-31", "2026-11-01", "2026-11-02"] {
            assert_eq!(
                local_times(&rules, &slots, date(day)),
                ["9:00 AM", "10:00 AM", "11:00 AM"],
                "{day}"
            );
        }
        let first = |day: &str| {
            slots
                .iter()
                .find(|s| local_date(&rules, s.start) == date(day))
                .unwrap()
                .start
        };
        assert_eq!(first("2026-10-31"), utc("2026-10-31T16:00:00Z"));
        assert_eq!(first("2026-11-02"), utc("2026-11-02T17:00:00Z"));
        let (from, to) = day_bounds(&rules, date("2026-11-01"));
        assert_eq!(to - from, Duration::hours(25));
    }

    #[test]
    fn hours_inside_the_skipped_and_repeated_hour() {
        let mut rules = rules();
        for day in &mut rules.hours {
            *day = vec![(time("01:00"), time("04:00"))];
        }
        // Spring: 02:00-02:59 does not exist on 2026-03-08.
        let spring = open_slots(&rules, 60, &[], &[], utc("2026-03-07T12:00:00Z"));
        let on_change = local_times(&rules, &spring, date("2026-03-08"));
        assert_eq!(on_change, ["1:00 AM", "3:00 AM"]);
        // Autumn: 01:00 happens twice on 2026-11-01; the first is offered once.
        let autumn = open_slots(&rules, 60, &[], &[], utc("2026-10-31T12:00:00Z"));
        let on_change: Vec<_> = autumn
            .iter()
            .filter(|s| local_date(&rules, s.start) == date("2026-11-01"))
            .collect();
        assert_eq!(on_change.len(), 3);
        assert_eq!(on_change[0].start, utc("2026-11-01T08:00:00Z"), "01:00 PDT");
        // Each slot really is 60 minutes long.
        assert!(
            on_change
                .iter()
                .all(|s| s.end - s.start == Duration::hours(1))
        );
    }

    #[test]
    fn minimum_notice_hides_times_too_soon() {
        let mut rules = rules();
        rules.minimum_notice = Duration::hours(24);
        // 2026-06-01 10:30 PDT
        let now = utc("2026-06-01T17:30:00Z");
        let slots = open_slots(&rules, 60, &[], &[], now);
        assert_eq!(
            slots[0].start,
            utc("2026-06-02T18:00:00Z"),
            "11:00 the next day"
        );
        assert!(slots.iter().all(|s| s.start >= now + Duration::hours(24)));
        // Exactly 24 hours ahead is allowed.
        let now = utc("2026-06-01T16:00:00Z");
        assert_eq!(
            open_slots(&rules, 60, &[], &[], now)[0].start,
            utc("2026-06-02T16:00:00Z")
        );
    }

    #[test]
    fn buffers_space_slots_and_keep_clear_of_bookings() {
        let mut rules = rules();
        rules.buffer = Duration::minutes(15);
        let now = utc("2026-06-01T00:00:00Z");
        let slots = open_slots(&rules, 30, &[], &[], now);
        assert_eq!(
            local_times(&rules, &slots, date("2026-06-02")),
            ["9:00 AM", "9:45 AM", "10:30 AM", "11:15 AM"]
        );
        // A booking at 10:00 (off the grid, e.g. from older settings) blocks
        // every slot within 15 minutes of it.
        let busy = Busy {
            start: utc("2026-06-02T17:00:00Z"),
            end: utc("2026-06-02T17:30:00Z"),
        };
        let slots = open_slots(&rules, 30, &[busy], &[], now);
        assert_eq!(
            local_times(&rules, &slots, date("2026-06-02")),
            ["9:00 AM", "11:15 AM"]
        );
    }

    #[test]
    fn a_booked_slot_disappears_and_the_daily_maximum_closes_a_day() {
        let mut rules = rules();
        rules.daily_maximum = 2;
        let now = utc("2026-06-01T00:00:00Z");
        let slots = open_slots(&rules, 60, &[], &[], now);
        let first = slots
            .iter()
            .find(|s| local_date(&rules, s.start) == date("2026-06-02"))
            .unwrap();
        let busy = [Busy {
            start: first.start,
            end: first.end,
        }];
        let after = open_slots(&rules, 60, &busy, &[], now);
        assert_eq!(
            local_times(&rules, &after, date("2026-06-02")),
            ["10:00 AM", "11:00 AM"]
        );
        let ten = after
            .iter()
            .find(|s| local_date(&rules, s.start) == date("2026-06-02"))
            .unwrap();
        let second = Busy {
            start: ten.start,
            end: ten.end,
        };
        let full = open_slots(&rules, 60, &[busy[0], second], &[], now);
        assert!(local_times(&rules, &full, date("2026-06-02")).is_empty());
        assert!(!local_times(&rules, &full, date("2026-06-03")).is_empty());
    }

    #[test]
    fn her_calendar_and_time_off_close_times_without_filling_the_day() {
        let mut rules = rules();
        rules.daily_maximum = 1;
        let now = utc("2026-06-01T00:00:00Z");
        let on_the_2nd = |slots: &[Slot]| local_times(&rules, slots, date("2026-06-02"));
        let all = open_slots(&rules, 60, &[], &[], now);
        let first = *all
            .iter()
            .find(|s| local_date(&rules, s.start) == date("2026-06-02"))
            .unwrap();
        let blocked = [Busy {
            start: first.start,
            end: first.end,
        }];
        let after = open_slots(&rules, 60, &[], &blocked, now);
        assert_eq!(on_the_2nd(&after), ["10:00 AM", "11:00 AM"]);
        assert_eq!(
            why_closed(&rules, &first, &[], &blocked, now),
            Some(Closed::Busy)
        );
        // A consultation booked fills the day; a blocked time does not.
        let booked = open_slots(&rules, 60, &blocked, &[], now);
        assert!(on_the_2nd(&booked).is_empty());
        // The dashboard sees every slot of her hours, with why it is closed.
        let today = slots_in_hours(&rules, 60, now)
            .into_iter()
            .find(|s| local_date(&rules, s.start) == date("2026-05-31"))
            .unwrap();
        assert_eq!(
            why_closed(&rules, &today, &[], &[], now),
            Some(Closed::TooSoon)
        );
    }

    #[test]
    fn blocked_dates_weekdays_and_the_horizon() {
        let mut rules = rules();
        rules.hours[Weekday::Sun.num_days_from_monday() as usize].clear();
        rules.blocked_dates.push(date("2026-06-03"));
        rules.days_ahead = 8;
        let slots = open_slots(&rules, 60, &[], &[], utc("2026-06-01T00:00:00Z"));
        let days: Vec<NaiveDate> = by_day(&rules, &slots).into_iter().map(|(d, _)| d).collect();
        assert!(!days.contains(&date("2026-06-03")), "blocked");
        assert!(!days.contains(&date("2026-06-07")), "Sunday");
        assert_eq!(days.first(), Some(&date("2026-06-01")));
        assert_eq!(
            days.last(),
            Some(&date("2026-06-08")),
            "8 days ahead of May 31 local"
        );
    }

    #[test]
    fn labels_name_the_zone() {
        let rules = rules();
        assert_eq!(
            describe(&rules, utc("2026-03-10T17:30:00Z")),
            "Tuesday, March 10, 2026 at 10:30 AM Pacific Time"
        );
        assert_eq!(
            describe(&rules, utc("2026-01-10T17:30:00Z")),
            "Saturday, January 10, 2026 at 9:30 AM Pacific Time"
        );
        assert_eq!(day_label(date("2026-03-10")), "Tuesday, March 10");
    }

    #[test]
    fn the_guard_covers_buffer_and_local_day() {
        let mut rules = rules();
        rules.buffer = Duration::minutes(10);
        let slot = Slot {
            start: utc("2026-07-01T06:30:00Z"), // 23:30 on June 30 local
            end: utc("2026-07-01T07:00:00Z"),
        };
        let g = guard(&rules, &slot);
        assert_eq!(g.conflict_from, utc("2026-07-01T06:20:00Z"));
        assert_eq!(g.conflict_to, utc("2026-07-01T07:10:00Z"));
        assert_eq!(g.day_from, utc("2026-06-30T07:00:00Z"));
        assert_eq!(g.day_to, utc("2026-07-01T07:00:00Z"));
    }

    #[test]
    fn a_booked_time_that_no_longer_fits_says_why() {
        let mut rules = rules();
        let at = |text: &str| {
            let start = DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc);
            Slot {
                start,
                end: start + Duration::minutes(15),
            }
        };
        // 09:00 and 13:00 Pacific on Tuesday, June 9, 2026 (UTC-7).
        assert_eq!(no_longer_fits(&rules, &at("2026-06-09T16:00:00Z")), None);
        assert_eq!(
            no_longer_fits(&rules, &at("2026-06-09T20:00:00Z")),
            Some("outside the weekly hours in site.toml")
        );
        rules
            .blocked_dates
            .push(NaiveDate::from_ymd_opt(2026, 6, 9).unwrap());
        assert_eq!(
            no_longer_fits(&rules, &at("2026-06-09T16:00:00Z")),
            Some("on a day now blocked in site.toml")
        );
    }
}
