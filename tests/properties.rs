//! Property tests for every parser of outside input and for the rules built
//! on them (the "fuzzing and properties" part of the hardening issue).
//!
//! `cargo fuzz` needs a nightly toolchain, which is not available here, so
//! these are proptest properties instead. Covered:
//!
//! - email address lists (`EmailAddress::parse`, `EmailList::parse`,
//!   `EmailList::from_stored`);
//! - webhook URLs (`WebhookUrl::parse`) and the SSRF guard
//!   (`guard::is_forbidden_ip`, `guard::check_literal`);
//! - import payloads (`ImportedFinding::new`, `import::plan`);
//! - the security gate (`gate::evaluate`);
//! - retry settings and headers (`RetrySchedule::parse`,
//!   `parse_retry_after`, `next_delay`);
//! - the message builders for Slack, Teams and email, and the escaping of
//!   user data in them (`markup::slack`, `markup::markdown`);
//! - random GraphQL documents from the real schema, sent to the real
//!   server: the query budget, fragment counting and error codes.
//!
//! The websocket protocol's readers of client input (`Protocol::parse`,
//! `Protocol::choose`, `token_of`) have their properties next to them, in
//! `src/live/protocol.rs` and `src/http/ws.rs`.
//!
//! Found so far (and fixed): a webhook URL accepted on input whose
//! normalised form (percent-encoding, an added `/`) was over the length
//! limit, so it no longer parsed when read back and silently vanished; and
//! addresses differing only in case each got a message.
//!
//! Smoke run (part of the normal test command, 256 cases per property, a few
//! seconds): `cargo test --test properties`.
//! Longer run, by hand: `PROPTEST_CASES=100000 cargo test --release --test properties`
//!
//! Failures are not persisted to a `proptest-regressions` file (this test
//! owns no other file); a failing case is printed shrunk, and a case worth
//! keeping becomes an ordinary unit test next to the code it exercises.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::Config;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use url::Url;

use herald::delivery::{email, guard, slack, teams};
use herald::domain::gate::{self, GateSettings, GlobalGate, SecurityGateStatus, SeverityCounts, Threshold, Thresholds};
use herald::domain::import::{self, ExistingObservation, ImportPlan, ImportedFinding};
use herald::domain::markup;
use herald::domain::notification::Rendered;
use herald::domain::retry::{self, MAX_RETRY_AFTER, RetrySchedule};
use herald::domain::{EmailAddress, EmailList, NotificationType, ObservationStatus, Severity, WebhookUrl};

/// 256 cases by default, `PROPTEST_CASES` to change it; no regression files.
fn config() -> Config {
    Config {
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------
// Text generators
// ---------------------------------------------------------------------------

/// Pieces that tend to break parsers, escapers and JSON.
const TRICKY: &[&str] = &[
    "\"",
    "'",
    "\\",
    "```",
    "<script>",
    "</script>",
    "<",
    ">",
    "&",
    "&amp;",
    "\u{0}",
    "\u{7}",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "\u{a0}",
    "\u{2028}",
    "\u{200b}",
    "\u{feff}",
    "\u{202e}",
    "é",
    "ß",
    "İ",
    "日本",
    "😀",
    "👩‍👩‍👧",
    "\u{301}",
    "\u{fffd}",
    "@",
    ".",
    ",",
    ":",
    "/",
    "//",
    "?",
    "#",
    "%",
    "%00",
    "%2e",
    "=?utf-8?b?",
    "?=",
    "Bcc: x@evil.io",
    "*",
    "_",
    "~",
    "`",
    "{",
    "}",
    "[",
    "]",
    "$",
];

fn tricky_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => select(TRICKY).prop_map(str::to_owned),
            2 => "[a-zA-Z0-9]{1,6}",
            1 => any::<char>().prop_map(String::from),
        ],
        0..40,
    )
    .prop_map(|pieces| pieces.concat())
}

/// Any text: arbitrary unicode (control characters included), tricky
/// pieces, and now and then something long.
fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        4 => tricky_text(),
        2 => proptest::collection::vec(any::<char>(), 0..64).prop_map(String::from_iter),
        1 => proptest::collection::vec(any::<char>(), 0..4000).prop_map(String::from_iter),
        1 => (tricky_text(), 1..200usize).prop_map(|(s, n)| s.repeat(n)),
    ]
}

/// Short text of every kind, cheap to generate.
fn short_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        2 => tricky_text(),
        1 => proptest::collection::vec(any::<char>(), 0..32).prop_map(String::from_iter),
    ]
}

/// Text that is sometimes far over any length limit (by repetition, which
/// is cheaper to generate than thousands of random characters).
fn maybe_long_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => short_text(),
        1 => (short_text(), 1..300usize).prop_map(|(s, n)| s.repeat(n)),
        1 => (tricky_text(), 50..300usize).prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn arb_severity() -> impl Strategy<Value = Severity> {
    select(Severity::ALL.to_vec())
}

fn arb_status() -> impl Strategy<Value = ObservationStatus> {
    select(ObservationStatus::ALL.to_vec())
}

/// Inserts `piece` at a character boundary of `text` chosen by `at`.
fn insert_at(text: &str, at: Index, piece: &str) -> String {
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let cut = boundaries[at.index(boundaries.len())];
    format!("{}{piece}{}", &text[..cut], &text[cut..])
}

// ---------------------------------------------------------------------------
// Email addresses
// ---------------------------------------------------------------------------

/// Addresses every mail system accepts; the parser must take all of them.
fn valid_email() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,10}(\\.[a-z0-9]{1,10})?@[a-z0-9]{1,10}\\.[a-z]{2,6}",
        "[A-Za-z0-9_+-]{1,20}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}){0,2}@([a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\\.){1,3}[a-zA-Z]{2,10}",
    ]
}

/// Valid addresses, sometimes padded with whitespace or damaged in one place.
fn email_candidate() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => valid_email(),
        1 => ("[ \t\n]{0,2}", valid_email(), "[ \t\n]{0,2}").prop_map(|(a, e, b)| format!("{a}{e}{b}")),
        3 => (valid_email(), any::<Index>(), prop_oneof![select(TRICKY).prop_map(str::to_owned), any::<char>().prop_map(String::from)])
            .prop_map(|(e, at, piece)| insert_at(&e, at, &piece)),
        2 => arb_text(),
        1 => "[a-z@.\\-+ ]{0,20}",
    ]
}

/// Checks everything an accepted address promises.
fn assert_well_formed_address(raw: &str, address: &EmailAddress) -> Result<(), TestCaseError> {
    let text = address.as_str();
    prop_assert_eq!(text, raw.trim(), "the address is the input, trimmed");
    prop_assert_eq!(EmailAddress::parse("again", text), Ok(address.clone()));
    prop_assert_eq!(address.to_string(), text);
    prop_assert_eq!(text.matches('@').count(), 1, "{:?}", text);
    prop_assert!(text.is_ascii(), "{:?}", text);
    prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()), "{:?}", text);
    prop_assert!(text.len() <= 254, "{} bytes", text.len());
    let (local, domain) = text.split_once('@').unwrap();
    prop_assert!(!local.is_empty() && local.len() <= 64, "{:?}", text);
    prop_assert!(
        !local.starts_with('.') && !local.ends_with('.') && !local.contains(".."),
        "{:?}",
        text
    );
    prop_assert!(domain.contains('.'), "{:?}", text);
    for label in domain.split('.') {
        prop_assert!(!label.is_empty() && label.len() <= 63, "{:?}", text);
        prop_assert!(!label.starts_with('-') && !label.ends_with('-'), "{:?}", text);
    }
    Ok(())
}

/// A pool of a few addresses, so that generated lists repeat some.
const ADDRESS_POOL: &[&str] = &[
    "a@b.io",
    "ops@example.com",
    "first.last+tag@mail.example.org",
    "A@B.IO",
    "x_y-z@sub-domain.example.de",
];

fn list_item() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (select(ADDRESS_POOL), "[ \t]{0,1}", "[ \t]{0,1}").prop_map(|(a, l, r)| format!("{l}{a}{r}")),
        2 => valid_email(),
        1 => email_candidate(),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn email_parse_never_panics_and_accepts_only_well_formed(field in "[a-zA-Z.\\[\\]0-9]{1,24}", raw in email_candidate()) {
        match EmailAddress::parse(&field, &raw) {
            Ok(address) => assert_well_formed_address(&raw, &address)?,
            Err(err) => prop_assert_eq!(err.field, field),
        }
    }

    #[test]
    fn email_parse_accepts_every_ordinary_address(raw in valid_email(), pad in "[ \t]{0,2}") {
        let padded = format!("{pad}{raw}{pad}");
        let address = EmailAddress::parse("f", &padded);
        prop_assert!(address.is_ok(), "{:?} refused: {:?}", padded, address);
        let address = address.unwrap();
        prop_assert_eq!(address.as_str(), raw.as_str());
        assert_well_formed_address(&padded, &address)?;
    }

    #[test]
    fn email_list_dedups_in_order_and_round_trips_through_storage(
        field in "[a-zA-Z]{1,20}",
        raw in prop_oneof![
            8 => proptest::collection::vec(list_item(), 0..12),
            1 => proptest::collection::vec(list_item(), 95..110),
        ],
    ) {
        match EmailList::parse(&field, &raw) {
            Ok(list) => {
                prop_assert!(raw.len() <= EmailList::MAX_LEN);
                let mut expected: Vec<String> = Vec::new();
                for item in &raw {
                    let trimmed = item.trim().to_owned();
                    // Addresses that differ only in case are one mailbox.
                    if !expected.iter().any(|e| e.eq_ignore_ascii_case(&trimmed)) {
                        expected.push(trimmed);
                    }
                }
                prop_assert_eq!(list.strings(), expected, "duplicates dropped, first occurrence kept, order kept");
                prop_assert_eq!(list.is_empty(), raw.is_empty());
                for address in list.iter() {
                    assert_well_formed_address(address.as_str(), address)?;
                }
                prop_assert_eq!(EmailList::from_stored(&list.to_stored()), list);
            }
            Err(err) => {
                prop_assert_eq!(&err.field, &field);
                let some_item_bad = raw.iter().any(|item| EmailAddress::parse(&field, item).is_err());
                prop_assert!(
                    raw.len() > EmailList::MAX_LEN || some_item_bad,
                    "refused a list of {} good addresses: {}", raw.len(), err
                );
            }
        }
    }

    #[test]
    fn email_list_from_stored_never_panics(json in prop_oneof![
        arb_text(),
        proptest::collection::vec(email_candidate(), 0..8)
            .prop_map(|items| serde_json::to_string(&items).unwrap()),
    ]) {
        let list = EmailList::from_stored(&json);
        // Whatever it reads is valid and stores back to itself.
        for address in list.iter() {
            assert_well_formed_address(address.as_str(), address)?;
        }
        prop_assert_eq!(EmailList::from_stored(&list.to_stored()), list);
    }
}

// ---------------------------------------------------------------------------
// Webhook URLs
// ---------------------------------------------------------------------------

/// Hosts as they appear in webhook URLs. `url` lower-cases hosts, so a
/// secret containing upper-case letters can never show up in one.
fn webhook_host() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9-]{0,12}(\\.[a-z][a-z0-9-]{0,8}){0,3}\\.[a-z]{2,6}",
        1 => any::<Ipv4Addr>().prop_map(|ip| ip.to_string()),
        1 => any::<Ipv6Addr>().prop_map(|ip| format!("[{ip}]")),
        1 => Just("localhost".to_owned()),
        1 => "[A-Za-z]{1,6}\\.[a-z]{2,4}", // upper-case input, lower-cased by the parser
    ]
}

fn port() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), any::<u16>().prop_map(|p| format!(":{p}"))]
}

/// A secret: upper-case so it cannot collide with a (lower-cased) host.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_~-]{6,16}".prop_map(|s| format!("SECRETQX{s}"))
}

/// `(url, secret)`: a syntactically plausible webhook URL whose path, query
/// or fragment carries the secret. Sometimes with another scheme or with
/// credentials, which must be refused.
fn webhook_with_secret() -> impl Strategy<Value = (String, String)> {
    (
        prop_oneof![
            4 => select(vec!["https", "http", "HTTPS", "Http"]),
            1 => select(vec!["ftp", "file", "ws", "javascript", "data", "mailto"]),
        ],
        prop_oneof![
            6 => Just(String::new()),
            1 => ("[a-z]{1,6}", "[a-zA-Z0-9]{0,6}").prop_map(|(u, p)| format!("{u}:{p}@")),
            1 => "[a-z]{1,6}@",
        ],
        webhook_host(),
        port(),
        "(/[a-zA-Z0-9._~-]{0,10}){0,3}",
        secret(),
        0..3usize,
        "[a-zA-Z0-9=&]{0,10}",
    )
        .prop_map(|(scheme, userinfo, host, port, path, secret, place, extra)| {
            let tail = match place {
                0 => format!("{path}/{secret}/{extra}"),
                1 => format!("{path}/x?token={secret}&{extra}"),
                _ => format!("{path}/{extra}#{secret}"),
            };
            (format!("{scheme}://{userinfo}{host}{port}{tail}"), secret)
        })
}

/// Accepted-looking URLs with arbitrary text in the path, query and
/// fragment, for the storage round trip.
fn webhook_with_arbitrary_tail() -> impl Strategy<Value = String> {
    (
        select(vec!["https", "http"]),
        webhook_host(),
        port(),
        prop_oneof![
            3 => tricky_text(),
            1 => proptest::collection::vec(any::<char>(), 0..2100).prop_map(String::from_iter),
            1 => (tricky_text(), 1..300usize).prop_map(|(s, n)| s.repeat(n)),
        ],
    )
        .prop_map(|(scheme, host, port, tail)| format!("{scheme}://{host}{port}/{tail}"))
}

fn assert_accepted_webhook(url: &WebhookUrl) -> Result<(), TestCaseError> {
    let parsed = url.url();
    prop_assert!(matches!(parsed.scheme(), "http" | "https"), "{}", url.expose());
    prop_assert!(parsed.host_str().is_some_and(|h| !h.is_empty()), "{}", url.expose());
    prop_assert_eq!(parsed.username(), "");
    prop_assert_eq!(parsed.password(), None);
    prop_assert_eq!(url.expose(), parsed.as_str());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn webhook_parse_never_panics_and_never_repeats_its_input(
        field in "[a-zA-Z]{1,24}",
        (before, after) in (
            prop_oneof![
                2 => arb_text(),
                1 => ("(?i:https?)://[a-z]{1,8}\\.[a-z]{2,4}(:[0-9]{1,5})?[/?#]", short_text()).prop_map(|(a, b)| a + &b),
            ],
            arb_text(),
        ),
        marker in secret(),
    ) {
        let raw = format!("{before}{marker}{after}");
        match WebhookUrl::parse(&field, &raw) {
            Ok(url) => {
                assert_accepted_webhook(&url)?;
                // The marker is upper-case: it can only be in the path,
                // query or fragment, which are never shown.
                for shown in [format!("{url:?}"), format!("{url}"), url.masked()] {
                    prop_assert!(!shown.contains(&marker), "{:?} shows {:?}", shown, marker);
                }
            }
            Err(err) => {
                prop_assert_eq!(&err.field, &field);
                prop_assert!(!err.message.contains(&marker), "{:?}", err.message);
                prop_assert!(!err.to_string().contains(&marker), "{}", err);
                prop_assert!(!format!("{err:?}").contains(&marker), "{:?}", err);
            }
        }
    }

    #[test]
    fn webhook_secret_never_shows((raw, secret) in webhook_with_secret()) {
        let scheme_ok = raw.to_ascii_lowercase().starts_with("http://") || raw.to_ascii_lowercase().starts_with("https://");
        let has_credentials = raw.split_once("://").is_some_and(|(_, rest)| {
            rest.split(['/', '?', '#']).next().is_some_and(|authority| authority.contains('@'))
        });
        match WebhookUrl::parse("notificationSlackWebhook", &raw) {
            Ok(url) => {
                prop_assert!(scheme_ok, "accepted {:?}", raw);
                prop_assert!(!has_credentials, "accepted credentials in {:?}", raw);
                assert_accepted_webhook(&url)?;
                prop_assert!(url.expose().contains(&secret), "expose() keeps the whole URL");
                let masked = url.masked();
                prop_assert_eq!(&masked, &format!("{}://{}/…", url.url().scheme(), url.url().host_str().unwrap()));
                for shown in [format!("{url:?}"), format!("{url}"), masked] {
                    prop_assert!(!shown.contains(&secret), "{:?} shows the secret of {:?}", shown, raw);
                    prop_assert!(!shown.contains("SECRETQX"), "{:?}", shown);
                }
            }
            Err(err) => {
                prop_assert_eq!(&err.field, "notificationSlackWebhook");
                prop_assert!(!err.to_string().contains(&secret), "{}", err);
                prop_assert!(!err.to_string().contains("SECRETQX"), "{}", err);
                // Plain http(s) URLs without credentials are not refused.
                prop_assert!(!scheme_ok || has_credentials, "refused {:?}: {}", raw, err);
            }
        }
    }

    #[test]
    fn webhook_round_trips_through_storage(raw in webhook_with_arbitrary_tail()) {
        // What is stored is `expose()`, and it is parsed again with
        // `WebhookUrl::parse("stored", …).ok()` when read back: an accepted
        // URL that does not parse again silently disappears.
        if let Ok(url) = WebhookUrl::parse("f", &raw) {
            assert_accepted_webhook(&url)?;
            let again = WebhookUrl::parse("stored", url.expose());
            prop_assert_eq!(
                again.as_ref(), Ok(&url),
                "input of {} bytes accepted, stored form of {} bytes not: {:?}",
                raw.trim().len(), url.expose().len(), again.as_ref().err()
            );
        }
    }
}

/// The shortest cases of a bug the property above found (fixed): input
/// within `MAX_LEN` whose normalised, stored form was over it, so the stored
/// webhook no longer parsed and was dropped when read back. Such input is now
/// refused up front.
#[test]
fn webhook_accepted_input_still_parses_once_stored() {
    let mut lost = Vec::new();
    for raw in [
        // 692 bytes in, 2050 bytes stored: `"` is percent-encoded in a path.
        format!("https://a.io/{}", "\"".repeat(679)),
        // 2048 bytes in, 2049 stored: the parser adds the `/` of the empty path.
        format!("https://a.io?{}", "a".repeat(2035)),
    ] {
        let Ok(url) = WebhookUrl::parse("f", &raw) else {
            continue;
        };
        if WebhookUrl::parse("stored", url.expose()).as_ref() != Ok(&url) {
            lost.push(format!("{} bytes in, {} bytes stored", raw.len(), url.expose().len()));
        }
    }
    assert!(lost.is_empty(), "accepted but unreadable once stored: {lost:?}");
}

// ---------------------------------------------------------------------------
// SSRF guard
// ---------------------------------------------------------------------------

/// IPv4 addresses in the ranges a webhook must never reach.
fn private_v4() -> impl Strategy<Value = Ipv4Addr> {
    (
        select(vec![
            ([127u8, 0, 0, 0], 8u32),
            ([10, 0, 0, 0], 8),
            ([192, 168, 0, 0], 16),
            ([169, 254, 0, 0], 16),
        ]),
        any::<u32>(),
    )
        .prop_map(|((net, len), bits)| {
            let mask = u32::MAX << (32 - len);
            Ipv4Addr::from((u32::from(Ipv4Addr::from(net)) & mask) | (bits & !mask))
        })
}

/// The IPv6 forms that reach an IPv4 address: mapped, translated, NAT64 and
/// 6to4.
fn v6_forms(v4: Ipv4Addr) -> [Ipv6Addr; 4] {
    let bits = u128::from(u32::from(v4));
    let [a, b, c, d] = v4.octets();
    [
        v4.to_ipv6_mapped(),
        Ipv6Addr::from((0xffffu128 << 48) | bits),
        Ipv6Addr::from((0x0064_ff9bu128 << 96) | bits),
        Ipv6Addr::new(
            0x2002,
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d]),
            0,
            0,
            0,
            0,
            1,
        ),
    ]
}

fn arb_url() -> impl Strategy<Value = Url> {
    prop_oneof![
        arb_text(),
        webhook_with_arbitrary_tail(),
        webhook_with_secret().prop_map(|(raw, _)| raw),
        ("[a-z+.-]{1,8}", ":(//)?", webhook_host(), "[/?#a-z]{0,8}")
            .prop_map(|(s, sep, h, t)| format!("{s}{sep}{h}{t}")),
        (
            prop_oneof![
                Just("localhost".to_owned()),
                "[a-z]{1,5}\\.localhost\\.?",
                Just("LOCALHOST.".to_owned())
            ],
            port()
        )
            .prop_map(|(h, p)| format!("http://{h}{p}/x")),
    ]
    .prop_filter_map("not a URL", |raw| Url::parse(&raw).ok())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn private_ipv4_and_its_ipv6_forms_are_forbidden(v4 in private_v4()) {
        prop_assert!(guard::is_forbidden_ip(IpAddr::V4(v4)), "{}", v4);
        for v6 in v6_forms(v4) {
            prop_assert!(guard::is_forbidden_ip(IpAddr::V6(v6)), "{} (for {})", v6, v4);
        }
        let refused = Err(guard::TargetRefused::Private);
        prop_assert_eq!(guard::check_literal(&Url::parse(&format!("http://{v4}/hook")).unwrap(), false), refused);
        let mapped = Url::parse(&format!("https://[{}]:8443/hook", v4.to_ipv6_mapped())).unwrap();
        prop_assert_eq!(guard::check_literal(&mapped, false), refused);
        prop_assert_eq!(guard::check_literal(&mapped, true), Ok(()));
        // The decimal and hex spellings of the same address are literals too.
        let decimal = Url::parse(&format!("http://{}/hook", u32::from(v4))).unwrap();
        prop_assert_eq!(guard::check_literal(&decimal, false), refused);
    }

    #[test]
    fn an_ipv6_form_is_judged_like_the_ipv4_it_reaches(v4 in any::<Ipv4Addr>()) {
        let verdict = guard::is_forbidden_ip(IpAddr::V4(v4));
        for v6 in v6_forms(v4) {
            prop_assert_eq!(guard::is_forbidden_ip(IpAddr::V6(v6)), verdict, "{} (for {})", v6, v4);
        }
    }

    #[test]
    fn check_literal_never_panics_and_is_consistent(url in arb_url()) {
        let strict = guard::check_literal(&url, false);
        let lenient = guard::check_literal(&url, true);
        let http = matches!(url.scheme(), "http" | "https");
        if !http {
            prop_assert_eq!(strict, Err(guard::TargetRefused::Scheme));
            prop_assert_eq!(lenient, Err(guard::TargetRefused::Scheme));
        } else {
            // `url` never gives a hostless http(s) URL.
            prop_assert_eq!(lenient, Ok(()), "{}", url);
            match url.host() {
                Some(url::Host::Ipv4(ip)) => {
                    prop_assert_eq!(strict.is_err(), guard::is_forbidden_ip(IpAddr::V4(ip)), "{}", url);
                }
                Some(url::Host::Ipv6(ip)) => {
                    prop_assert_eq!(strict.is_err(), guard::is_forbidden_ip(IpAddr::V6(ip)), "{}", url);
                }
                Some(url::Host::Domain(name)) => {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    let local = name == "localhost" || name.ends_with(".localhost");
                    prop_assert_eq!(strict.is_err(), local, "{}", url);
                }
                None => prop_assert!(false, "http(s) URL without a host: {}", url),
            }
            if let Err(refused) = strict {
                prop_assert_eq!(refused, guard::TargetRefused::Private);
            }
        }
        // A refusal never names the target.
        for refused in [strict, lenient].into_iter().filter_map(Result::err) {
            let text = refused.to_string();
            prop_assert!(!text.contains(url.as_str()), "{}", text);
        }
    }
}

// ---------------------------------------------------------------------------
// Import payloads
// ---------------------------------------------------------------------------

const FINGERPRINTS: &[&str] = &["fa", "fb", "fc", "fd", "fe", "ff", "fg", "fh"];
const TITLES: &[&str] = &["SQL injection", "XSS", "Old TLS", "  XSS  "];

/// `(fingerprint, title, severity)` from small pools, so that scans and
/// stored observations overlap; `None` derives the fingerprint.
fn finding_input() -> impl Strategy<Value = (Option<&'static str>, &'static str, Severity)> {
    (
        prop_oneof![4 => select(FINGERPRINTS).prop_map(Some), 1 => Just(None), 1 => Just(Some("  "))],
        select(TITLES),
        arb_severity(),
    )
}

fn incoming() -> impl Strategy<Value = Vec<ImportedFinding>> {
    proptest::collection::vec(finding_input(), 0..12).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, (fp, title, severity))| ImportedFinding::new(i, fp, title, severity).unwrap())
            .collect()
    })
}

/// Stored observations of one product and scanner: fingerprints are unique
/// (the database has a unique index on them), ids too.
fn existing() -> impl Strategy<Value = Vec<ExistingObservation>> {
    proptest::collection::vec((finding_input(), arb_status()), 0..12).prop_map(|items| {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, ((fp, title, severity), status)) in items.into_iter().enumerate() {
            let finding = ImportedFinding::new(i, fp, title, severity).unwrap();
            if seen.insert(finding.fingerprint.clone()) {
                out.push(ExistingObservation {
                    id: 100 + i as i64,
                    fingerprint: finding.fingerprint,
                    title: finding.title,
                    severity,
                    status,
                });
            }
        }
        out
    })
}

/// What the import service does with a plan.
fn apply(existing: &[ExistingObservation], plan: &ImportPlan) -> Vec<ExistingObservation> {
    let mut out: Vec<ExistingObservation> = existing.to_vec();
    for update in &plan.update {
        let row = out
            .iter_mut()
            .find(|o| o.id == update.id)
            .expect("updates name stored rows");
        row.title = update.title.clone();
        row.severity = update.severity;
        row.status = update.status;
    }
    for row in out.iter_mut().filter(|o| plan.resolve.contains(&o.id)) {
        row.status = ObservationStatus::Resolved;
    }
    let next_id = out.iter().map(|o| o.id).max().unwrap_or(0) + 1;
    for (i, created) in plan.create.iter().enumerate() {
        out.push(ExistingObservation {
            id: next_id + i as i64,
            fingerprint: created.fingerprint.clone(),
            title: created.title.clone(),
            severity: created.severity,
            status: ObservationStatus::Open,
        });
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn imported_finding_never_panics(
        index in any::<usize>(),
        fingerprint in proptest::option::of(arb_text()),
        title in arb_text(),
        severity in arb_severity(),
    ) {
        match ImportedFinding::new(index, fingerprint.as_deref(), &title, severity) {
            Ok(finding) => {
                prop_assert_eq!(finding.severity, severity);
                prop_assert_eq!(finding.title.as_str(), title.trim());
                prop_assert!(!finding.title.is_empty() && finding.title.chars().count() <= 255);
                prop_assert!(!finding.title.chars().any(char::is_control));
                match fingerprint.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
                    Some(given) => {
                        prop_assert_eq!(finding.fingerprint.as_str(), given);
                        prop_assert!(given.chars().count() <= 255 && !given.chars().any(char::is_control));
                    }
                    None => {
                        prop_assert_eq!(&finding.fingerprint, &import::derived_fingerprint(&finding.title, severity));
                        prop_assert_eq!(finding.fingerprint.len(), 64);
                        prop_assert!(finding.fingerprint.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
                    }
                }
            }
            Err(err) => {
                let title_field = format!("observations[{index}].title");
                let fingerprint_field = format!("observations[{index}].fingerprint");
                prop_assert!(err.field == title_field || err.field == fingerprint_field, "{}", err.field);
            }
        }
    }

    #[test]
    fn import_plan_invariants(existing in existing(), incoming in incoming()) {
        let plan = import::plan(&existing, incoming.clone());

        let by_fp: HashMap<&str, &ExistingObservation> = existing.iter().map(|o| (o.fingerprint.as_str(), o)).collect();
        let by_id: HashMap<i64, &ExistingObservation> = existing.iter().map(|o| (o.id, o)).collect();
        let mut first: HashMap<&str, &ImportedFinding> = HashMap::new();
        for finding in &incoming {
            first.entry(finding.fingerprint.as_str()).or_insert(finding);
        }

        // Created: new fingerprints only, each once, as first listed.
        let mut created = HashSet::new();
        for finding in &plan.create {
            prop_assert!(created.insert(finding.fingerprint.as_str()), "{} created twice", finding.fingerprint);
            prop_assert!(!by_fp.contains_key(finding.fingerprint.as_str()), "{} already stored", finding.fingerprint);
            prop_assert_eq!(Some(&finding), first.get(finding.fingerprint.as_str()));
        }
        // Every incoming fingerprint is created or matches a stored one.
        for fp in first.keys() {
            prop_assert!(created.contains(fp) ^ by_fp.contains_key(fp), "{} neither or both", fp);
        }

        // Updated: stored rows seen again, each once, only when something changes.
        let mut updated = HashSet::new();
        for update in &plan.update {
            prop_assert!(updated.insert(update.id), "{} updated twice", update.id);
            let old = by_id.get(&update.id);
            prop_assert!(old.is_some(), "update of unknown id {}", update.id);
            let old = old.unwrap();
            let new = first.get(old.fingerprint.as_str());
            prop_assert!(new.is_some(), "update of {} which the scan does not list", old.fingerprint);
            let new = new.unwrap();
            prop_assert_eq!(&update.title, &new.title);
            prop_assert_eq!(update.severity, new.severity);
            let status = if old.status == ObservationStatus::Resolved { ObservationStatus::Open } else { old.status };
            prop_assert_eq!(update.status, status);
        }
        for old in &existing {
            if let Some(new) = first.get(old.fingerprint.as_str()) {
                let changes = old.title != new.title || old.severity != new.severity || old.status == ObservationStatus::Resolved;
                prop_assert_eq!(updated.contains(&old.id), changes, "{:?} seen again as {:?}", old, new);
            }
        }

        // Resolved: exactly the stored OPEN / IN_REVIEW rows the scan no longer lists.
        let resolved: HashSet<i64> = plan.resolve.iter().copied().collect();
        prop_assert_eq!(resolved.len(), plan.resolve.len(), "an id resolved twice");
        let expected: HashSet<i64> = existing
            .iter()
            .filter(|o| !first.contains_key(o.fingerprint.as_str()))
            .filter(|o| matches!(o.status, ObservationStatus::Open | ObservationStatus::InReview))
            .map(|o| o.id)
            .collect();
        prop_assert_eq!(&resolved, &expected);
        prop_assert!(updated.is_disjoint(&resolved));

        // Importing the same scan again changes nothing.
        let after = apply(&existing, &plan);
        let again = import::plan(&after, incoming);
        prop_assert_eq!(again, ImportPlan::default());
    }
}

// ---------------------------------------------------------------------------
// Security gate
// ---------------------------------------------------------------------------

fn threshold_value() -> impl Strategy<Value = i32> {
    prop_oneof![3 => 0..12i32, 1 => 0..=Threshold::MAX]
}

fn threshold() -> impl Strategy<Value = Threshold> {
    threshold_value().prop_map(|v| Threshold::new("t", v).unwrap())
}

fn thresholds() -> impl Strategy<Value = Thresholds> {
    proptest::array::uniform6(proptest::option::weighted(0.8, threshold())).prop_map(Thresholds)
}

fn gate_settings() -> impl Strategy<Value = GateSettings> {
    (proptest::option::of(any::<bool>()), thresholds())
        .prop_map(|(active, thresholds)| GateSettings { active, thresholds })
}

fn global_gate() -> impl Strategy<Value = GlobalGate> {
    (any::<bool>(), proptest::array::uniform6(threshold()))
        .prop_map(|(active, thresholds)| GlobalGate { active, thresholds })
}

fn count() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 0..15u64, 1 => 0..2_000_000u64, 1 => any::<u64>()]
}

/// Counts: often mostly zero (so that gates pass), sometimes anything.
fn counts() -> impl Strategy<Value = SeverityCounts> {
    prop_oneof![
        2 => proptest::array::uniform6(prop_oneof![4 => Just(0u64), 1 => 0..15u64]),
        1 => proptest::array::uniform6(count()),
    ]
    .prop_map(SeverityCounts)
}

/// Counts at least as large as `c`.
fn more(c: SeverityCounts, extra: [u64; 6]) -> SeverityCounts {
    let mut out = c;
    for (i, e) in extra.into_iter().enumerate() {
        out.0[i] = out.0[i].saturating_add(e);
    }
    out
}

/// Thresholds at least as lenient as `t` (an empty one counts as 0).
fn raised(t: Thresholds, by: [Option<i32>; 6]) -> Thresholds {
    let mut out = t;
    for (i, d) in by.into_iter().enumerate() {
        if let Some(d) = d {
            let base = t.0[i].map_or(0, Threshold::value);
            out.0[i] = Some(Threshold::new("t", (base + d).min(Threshold::MAX)).unwrap());
        }
    }
    out
}

fn raised_global(g: GlobalGate, by: [Option<i32>; 6]) -> GlobalGate {
    let mut out = g;
    for (i, d) in by.into_iter().enumerate() {
        let d = d.unwrap_or(0);
        out.thresholds[i] = Threshold::new("t", (g.thresholds[i].value() + d).min(Threshold::MAX)).unwrap();
    }
    out
}

fn raise() -> impl Strategy<Value = [Option<i32>; 6]> {
    proptest::array::uniform6(proptest::option::of(prop_oneof![0..5i32, 0..=Threshold::MAX]))
}

/// The rule as the design states it, written independently of `gate.rs`.
fn reference(
    product: &GateSettings,
    group: Option<&GateSettings>,
    global: &GlobalGate,
    open: &SeverityCounts,
) -> SecurityGateStatus {
    let deciding = match group {
        Some(g) if g.active.is_some() => g,
        _ => product,
    };
    let limits: [i64; 6] = match deciding.active {
        Some(false) => return SecurityGateStatus::None,
        Some(true) => deciding.thresholds.0.map(|t| t.map_or(0, |t| i64::from(t.value()))),
        None if global.active => global.thresholds.map(|t| i64::from(t.value())),
        None => return SecurityGateStatus::None,
    };
    if (0..6).any(|i| i128::from(open.0[i]) > i128::from(limits[i])) {
        SecurityGateStatus::Failed
    } else {
        SecurityGateStatus::Passed
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn gate_follows_the_design(product in gate_settings(), group in proptest::option::of(gate_settings()), global in global_gate(), open in counts()) {
        prop_assert_eq!(
            gate::evaluate(&product, group.as_ref(), &global, &open),
            reference(&product, group.as_ref(), &global, &open)
        );
    }

    #[test]
    fn disabled_product_gate_is_none(
        thresholds in thresholds(),
        group_thresholds in thresholds(),
        with_group in any::<bool>(),
        global in global_gate(),
        open in counts(),
    ) {
        let product = GateSettings { active: Some(false), thresholds };
        let group = GateSettings { active: None, thresholds: group_thresholds };
        let group = with_group.then_some(&group);
        prop_assert_eq!(gate::evaluate(&product, group, &global, &open), SecurityGateStatus::None);
    }

    #[test]
    fn deferring_to_a_disabled_global_gate_is_none(
        thresholds in thresholds(),
        group_thresholds in thresholds(),
        with_group in any::<bool>(),
        global_thresholds in proptest::array::uniform6(threshold()),
        open in counts(),
    ) {
        let product = GateSettings { active: None, thresholds };
        let group = GateSettings { active: None, thresholds: group_thresholds };
        let global = GlobalGate { active: false, thresholds: global_thresholds };
        prop_assert_eq!(gate::evaluate(&product, with_group.then_some(&group), &global, &open), SecurityGateStatus::None);
    }

    #[test]
    fn gate_is_monotone_in_counts(
        product in gate_settings(),
        group in proptest::option::of(gate_settings()),
        global in global_gate(),
        open in counts(),
        extra in proptest::array::uniform6(prop_oneof![3 => Just(0u64), 2 => 0..3u64, 1 => any::<u64>()]),
    ) {
        let before = gate::evaluate(&product, group.as_ref(), &global, &open);
        let after = gate::evaluate(&product, group.as_ref(), &global, &more(open, extra));
        match before {
            SecurityGateStatus::Failed => prop_assert_eq!(after, SecurityGateStatus::Failed),
            SecurityGateStatus::Passed => prop_assert_ne!(after, SecurityGateStatus::None),
            SecurityGateStatus::None => prop_assert_eq!(after, SecurityGateStatus::None),
        }
    }

    #[test]
    fn gate_is_monotone_in_thresholds(
        product in gate_settings(),
        group in proptest::option::of(gate_settings()),
        global in global_gate(),
        open in counts(),
        (up_product, up_group, up_global) in (raise(), raise(), raise()),
    ) {
        let before = gate::evaluate(&product, group.as_ref(), &global, &open);
        let lenient_product = GateSettings { thresholds: raised(product.thresholds, up_product), ..product };
        let lenient_group = group.map(|g| GateSettings { thresholds: raised(g.thresholds, up_group), ..g });
        let lenient_global = raised_global(global, up_global);
        let after = gate::evaluate(&lenient_product, lenient_group.as_ref(), &lenient_global, &open);
        match before {
            SecurityGateStatus::Passed => prop_assert_eq!(after, SecurityGateStatus::Passed),
            SecurityGateStatus::Failed => prop_assert_ne!(after, SecurityGateStatus::None),
            SecurityGateStatus::None => prop_assert_eq!(after, SecurityGateStatus::None),
        }
    }

    #[test]
    fn none_does_not_depend_on_thresholds_or_counts(
        product in gate_settings(),
        group in proptest::option::of(gate_settings()),
        global in global_gate(),
        open in counts(),
        (other_product, other_group, other_global) in (thresholds(), thresholds(), proptest::array::uniform6(threshold())),
        other_open in counts(),
    ) {
        if gate::evaluate(&product, group.as_ref(), &global, &open) == SecurityGateStatus::None {
            let product = GateSettings { thresholds: other_product, ..product };
            let group = group.map(|g| GateSettings { thresholds: other_group, ..g });
            let global = GlobalGate { thresholds: other_global, ..global };
            prop_assert_eq!(gate::evaluate(&product, group.as_ref(), &global, &other_open), SecurityGateStatus::None);
        }
    }

    #[test]
    fn a_group_with_a_setting_overrides_its_products(
        active in any::<bool>(),
        group_thresholds in thresholds(),
        (one, other) in (gate_settings(), gate_settings()),
        global in global_gate(),
        open in counts(),
    ) {
        let group = GateSettings { active: Some(active), thresholds: group_thresholds };
        let status = gate::evaluate(&one, Some(&group), &global, &open);
        prop_assert_eq!(status, gate::evaluate(&other, Some(&group), &global, &open));
        prop_assert_eq!(status == SecurityGateStatus::None, !active);
    }
}

// ---------------------------------------------------------------------------
// Retry schedule and Retry-After
// ---------------------------------------------------------------------------

const UNIT_MILLIS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// `(text, delays)`: a valid schedule and what it means.
fn valid_schedule() -> impl Strategy<Value = (String, Vec<Duration>)> {
    proptest::collection::vec(
        (
            prop_oneof![4 => 1..100u64, 1 => 1..=u64::MAX / 86_400_000],
            select(UNIT_MILLIS),
            "[ \t]{0,1}",
            "[ ]{0,1}",
        ),
        1..10,
    )
    .prop_map(|items| {
        let text = items
            .iter()
            .map(|(n, (unit, _), pad, inner)| format!("{pad}{n}{inner}{unit}{pad}"))
            .collect::<Vec<_>>()
            .join(",");
        let delays = items
            .iter()
            .map(|(n, (_, ms), _, _)| Duration::from_millis(n * ms))
            .collect();
        (text, delays)
    })
}

fn schedule_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => arb_text(),
        2 => "[0-9msdhM ,\t.+-]{0,24}",
        2 => valid_schedule().prop_map(|(text, _)| text),
        1 => "[0-9]{15,25}[msdh]{1,2}",
    ]
}

fn arb_now() -> impl Strategy<Value = DateTime<Utc>> {
    // 1900..2200, to the second.
    (-2_208_988_800i64..7_258_118_400i64).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

/// A `Retry-After` value: delta-seconds, an HTTP-date in one of the three
/// forms (with the instant it names), or anything.
fn retry_after_value() -> impl Strategy<Value = (String, Option<DateTime<Utc>>)> {
    let date = (0i64..3_000_000_000i64).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap());
    prop_oneof![
        2 => arb_text().prop_map(|s| (s, None)),
        2 => "[ ]{0,2}[0-9]{1,30}[ ]{0,2}".prop_map(|s| (s, None)),
        1 => "[0-9a-zA-Z ,:+-]{0,40}".prop_map(|s| (s, None)),
        2 => date.clone().prop_map(|d| (d.format("%a, %d %b %Y %H:%M:%S GMT").to_string(), Some(d))),
        // RFC 850 has two-digit years: 1970..=2068 is read back the same.
        1 => (0i64..3_124_137_600i64).prop_map(|s| {
            let d = Utc.timestamp_opt(s, 0).unwrap();
            (d.format("%A, %d-%b-%y %H:%M:%S GMT").to_string(), Some(d))
        }),
        1 => date.prop_map(|d| (d.format("%a %b %e %H:%M:%S %Y").to_string(), Some(d))),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn retry_schedule_parse_never_panics_and_round_trips(text in schedule_text()) {
        if let Ok(schedule) = RetrySchedule::parse(&text) {
            prop_assert!(!schedule.delays().is_empty());
            prop_assert!(schedule.delays().iter().all(|d| !d.is_zero()));
            prop_assert_eq!(schedule.max_attempts() as usize, schedule.delays().len() + 1);
            let shown = schedule.to_string();
            let again = RetrySchedule::parse(&shown);
            prop_assert_eq!(again.as_ref(), Ok(&schedule), "{:?} shown as {:?}", text, shown);
            prop_assert_eq!(shown.parse::<RetrySchedule>().map(|s| s.to_string()), Ok(shown.clone()));
        } else {
            prop_assert!(text.parse::<RetrySchedule>().is_err());
        }
    }

    #[test]
    fn retry_schedule_accepts_every_valid_schedule((text, delays) in valid_schedule()) {
        let schedule = RetrySchedule::parse(&text);
        prop_assert!(schedule.is_ok(), "{:?}: {:?}", text, schedule);
        let schedule = schedule.unwrap();
        prop_assert_eq!(schedule.delays(), delays.as_slice());
        prop_assert_eq!(RetrySchedule::parse(&schedule.to_string()), Ok(schedule));
    }

    #[test]
    fn retry_after_never_panics_and_is_at_most_a_day((value, at) in retry_after_value(), now in arb_now()) {
        let parsed = retry::parse_retry_after(&value, now);
        if let Some(wait) = parsed {
            prop_assert!(wait <= MAX_RETRY_AFTER, "{:?} gave {:?}", value, wait);
        }
        let trimmed = value.trim();
        if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            let seconds = trimmed.parse::<u64>().unwrap_or(u64::MAX);
            prop_assert_eq!(parsed, Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER)));
        }
        if let Some(at) = at {
            let expected = (at - now).to_std().unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER);
            prop_assert_eq!(parsed, Some(expected), "{:?} at {}", value, now);
        }
    }

    #[test]
    fn next_delay_stops_exactly_when_attempts_run_out(
        (text, delays) in valid_schedule(),
        attempt in 0..14u32,
        retry_after in proptest::option::of((0..200_000u64).prop_map(Duration::from_secs)),
        seed in any::<u64>(),
    ) {
        let schedule = RetrySchedule::parse(&text).unwrap();
        let mut rng = StdRng::seed_from_u64(seed);
        let next = retry::next_delay(&schedule, attempt, retry_after, &mut rng);
        let exhausted = attempt.max(1) >= schedule.max_attempts();
        prop_assert_eq!(next.is_none(), exhausted, "attempt {} of {}", attempt, schedule.max_attempts());
        if let Some(wait) = next {
            let base = delays[attempt.max(1) as usize - 1].as_secs_f64();
            if let Some(after) = retry_after {
                prop_assert!(wait >= after, "{:?} sooner than Retry-After {:?}", wait, after);
            }
            let w = wait.as_secs_f64();
            prop_assert!(w >= base * 0.9 * (1.0 - 1e-9), "{:?} below 90 % of {}", wait, base);
            if retry_after.is_none_or(|after| wait > after) {
                prop_assert!(w <= base * 1.1 * (1.0 + 1e-9), "{:?} above 110 % of {}", wait, base);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Message builders
// ---------------------------------------------------------------------------

fn arb_kind() -> impl Strategy<Value = NotificationType> {
    select(NotificationType::ALL.to_vec())
}

fn rendered() -> impl Strategy<Value = Rendered> {
    (
        arb_kind(),
        maybe_long_text(),
        proptest::collection::vec((short_text(), maybe_long_text()), 0..14),
        proptest::option::of(prop_oneof![
            3 => maybe_long_text(),
            1 => (tricky_text(), 100..400usize).prop_map(|(s, n)| s.repeat(n)),
        ]),
        proptest::option::of(prop_oneof![
            "https://[a-z]{1,8}\\.example\\.com/products/[0-9]{1,6}",
            short_text(),
        ]),
    )
        .prop_map(|(kind, subject, facts, trace, link)| Rendered {
            kind,
            subject,
            facts,
            trace,
            link,
        })
}

fn json_round_trips(value: &Value) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(value);
    prop_assert!(text.is_ok(), "{:?}", text);
    let back: Result<Value, _> = serde_json::from_str(&text.unwrap());
    prop_assert!(back.is_ok(), "{:?}", back);
    prop_assert_eq!(&back.unwrap(), value);
    Ok(())
}

fn chars(value: &Value) -> usize {
    value.as_str().expect("a string").chars().count()
}

/// Slack reads mrkdwn here: no `<` or `>` may be left to open a mention or
/// a link.
fn no_slack_markup(value: &Value) -> Result<(), TestCaseError> {
    let text = value.as_str().expect("a string");
    prop_assert!(!text.contains('<') && !text.contains('>'), "{:?}", text);
    Ok(())
}

/// Undoes Markdown's backslash escapes.
fn unescape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            other => out.push(other),
        }
    }
    out
}

/// Teams renders Markdown: in the escaped text no character that starts
/// emphasis, a link, code or HTML may stand unescaped, and undoing the
/// escapes gives back the text as written.
fn inert_markdown(value: &Value, original: &str) -> Result<(), TestCaseError> {
    let text = value.as_str().expect("a string");
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
            continue;
        }
        prop_assert!(!"*_`~[]()<>|!".contains(c), "unescaped {:?} in {:?}", c, text);
    }
    prop_assert_eq!(unescape_markdown(text), original);
    Ok(())
}

/// The HTML body with its own tags taken out: what is left came from the
/// message and must hold no markup at all.
fn html_without_template(html: &str) -> String {
    const TAGS: &[&str] = &[
        "<!DOCTYPE html>",
        "<html>",
        "</html>",
        "<body>",
        "</body>",
        "<p>",
        "</p>",
        "<h2>",
        "</h2>",
        "<table>",
        "</table>",
        "<tr>",
        "</tr>",
        "<th align=\"left\">",
        "</th>",
        "<td>",
        "</td>",
        "<pre>",
        "</pre>",
        "<a href=\"",
        "\">Open the product</a>",
    ];
    TAGS.iter().fold(html.to_owned(), |rest, tag| rest.replace(tag, ""))
}

/// The header block of a formatted message, unfolded, one header a line.
fn header_lines(raw: &str) -> Vec<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push_str(line);
            }
        } else {
            out.push(line.to_owned());
        }
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn slack_payload_is_valid_json_within_slacks_limits(message in rendered()) {
        let payload = slack::payload(&message);
        json_round_trips(&payload)?;
        prop_assert_eq!(&payload["text"], &Value::String(markup::slack(&message.subject)));
        no_slack_markup(&payload["text"])?;
        let blocks = payload["blocks"].as_array().unwrap();
        prop_assert_eq!(&blocks[0]["type"], "header");
        let header = &blocks[0]["text"]["text"];
        prop_assert!(chars(header) <= 150, "header of {} characters", chars(header));
        let sections: Vec<&Value> = blocks.iter().filter(|b| b["fields"].is_array()).collect();
        prop_assert_eq!(sections.len(), message.facts.len().div_ceil(10));
        let mut field_count = 0;
        for section in sections {
            let fields = section["fields"].as_array().unwrap();
            prop_assert!(!fields.is_empty() && fields.len() <= 10);
            for field in fields {
                prop_assert!(chars(&field["text"]) <= 2000, "field of {} characters", chars(&field["text"]));
                no_slack_markup(&field["text"])?;
                field_count += 1;
            }
        }
        prop_assert_eq!(field_count, message.facts.len());
        let trace_blocks: Vec<&Value> = blocks.iter().filter(|b| b["text"]["type"] == "mrkdwn").collect();
        prop_assert_eq!(trace_blocks.len(), usize::from(message.trace.is_some()));
        for block in trace_blocks {
            let text = block["text"]["text"].as_str().unwrap();
            prop_assert!(text.chars().count() <= 3000, "trace section of {} characters", text.chars().count());
            prop_assert!(text.starts_with("```") && text.ends_with("```"));
            no_slack_markup(&block["text"]["text"])?;
        }
        let buttons = blocks.iter().filter(|b| b["type"] == "actions").count();
        prop_assert_eq!(buttons, usize::from(message.link.is_some()));
    }

    #[test]
    fn teams_cards_are_valid_json_carrying_the_text_escaped(message in rendered()) {
        let adaptive = teams::adaptive_card(&message);
        json_round_trips(&adaptive)?;
        let content = &adaptive["attachments"][0]["content"];
        inert_markdown(&content["body"][0]["text"], &message.subject)?;
        let facts = content["body"][1]["facts"].as_array().unwrap();
        prop_assert_eq!(facts.len(), message.facts.len());
        for ((title, value), fact) in message.facts.iter().zip(facts) {
            inert_markdown(&fact["title"], title)?;
            inert_markdown(&fact["value"], value)?;
        }
        if let Some(trace) = &message.trace {
            inert_markdown(&content["body"][2]["text"], trace)?;
        }

        let legacy = teams::message_card(&message);
        json_round_trips(&legacy)?;
        inert_markdown(&legacy["title"], &message.subject)?;
        prop_assert_eq!(&legacy["summary"], &Value::String(message.subject.clone()));
        if let Some(trace) = &message.trace {
            let block = legacy["sections"][0]["text"].as_str().unwrap();
            let fence: String = block.chars().take_while(|&c| c == '`').collect();
            prop_assert!(fence.len() >= 3, "{:?}", block);
            prop_assert!(!trace.contains(&fence), "the trace could close its fence: {:?}", block);
            prop_assert_eq!(block, format!("{fence}\n{trace}\n{fence}"));
        }
        let facts = legacy["sections"][0]["facts"].as_array().unwrap();
        prop_assert_eq!(facts.len(), message.facts.len());
        for ((name, value), fact) in message.facts.iter().zip(facts) {
            inert_markdown(&fact["name"], name)?;
            inert_markdown(&fact["value"], value)?;
        }
    }

    #[test]
    fn email_bodies_never_panic_and_html_escapes_everything(
        message in rendered(),
        first_name in proptest::option::of(short_text()),
    ) {
        let text = email::text_body(&message, first_name.as_deref());
        prop_assert!(text.contains(&message.subject));
        let html = email::html_body(&message, first_name.as_deref());
        prop_assert!(!html.to_ascii_lowercase().contains("<script"), "raw <script> in the HTML");
        let rest = html_without_template(&html);
        prop_assert!(!rest.contains('<') && !rest.contains('>'), "markup from the input left in {:?}", rest);
        prop_assert!(!rest.contains('"'), "an unescaped quote could end an attribute: {:?}", rest);
    }

    #[test]
    fn email_build_never_panics_and_never_injects_headers(
        message in rendered(),
        first_name in proptest::option::of(short_text()),
    ) {
        let built = email::build("herald@example.com", "ops@example.com", &message, first_name.as_deref());
        prop_assert!(built.is_ok(), "{:?}", built.err());
        let raw = String::from_utf8_lossy(&built.unwrap().formatted()).into_owned();
        let headers = header_lines(&raw);
        let names: Vec<String> = headers
            .iter()
            .map(|h| h.split(':').next().unwrap_or_default().to_ascii_lowercase())
            .collect();
        for name in &names {
            prop_assert!(
                ["from", "to", "subject", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding"]
                    .contains(&name.as_str()),
                "unexpected header {:?} in {:?}", name, headers
            );
        }
        prop_assert_eq!(names.iter().filter(|n| *n == "to").count(), 1);
        prop_assert_eq!(names.iter().filter(|n| *n == "subject").count(), 1);
        let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes());
        prop_assert!(parsed.is_some(), "not parseable MIME");
        // The subject arrives as written, up to whitespace and control
        // characters (folded or dropped on the way) and except a subject
        // that already looks like an encoded word, which lettre sends as it is.
        if !message.subject.contains("=?") {
            let visible = |s: &str| -> String { s.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect() };
            let subject = parsed.unwrap().subject().unwrap_or_default().to_owned();
            prop_assert_eq!(visible(&subject), visible(&message.subject), "{:?} arrived as {:?}", message.subject, subject);
        }
    }

    #[test]
    fn email_build_never_panics_on_any_address(
        from in prop_oneof![arb_text(), email_candidate()],
        to in prop_oneof![arb_text(), email_candidate()],
        message in rendered(),
    ) {
        let _ = email::build(&from, &to, &message, None);
    }
}

// ---------------------------------------------------------------------------
// Random documents from the real schema, against the real server: every
// accepted one costs at most the budget and answers within 1 s, on a world
// of a product group with 20 products; every refusal has a code.

mod common;

/// An output field of the schema, as introspection tells it.
#[derive(Debug, Clone)]
struct SchemaField {
    name: String,
    /// The named type under lists and non-nulls.
    target: String,
    object: bool,
    /// Required arguments, by name and named type.
    required: Vec<(String, String)>,
}

const FIELDS_QUERY: &str =
    "{ __schema { types { name kind fields { name args { name type { ...T } } type { ...T } } } } }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The named type under at most three wrappers (`[X!]!`).
fn named(ty: &Value) -> (String, bool) {
    let mut ty = ty;
    while ty["name"].is_null() {
        assert!(ty.is_object(), "a type nested deeper than FIELDS_QUERY reads");
        ty = &ty["ofType"];
    }
    (ty["name"].as_str().unwrap().to_owned(), ty["kind"] == "OBJECT")
}

async fn schema_fields() -> HashMap<String, Vec<SchemaField>> {
    let schema = herald::graphql::schema(None);
    let data = schema.execute(FIELDS_QUERY).await.data.into_json().unwrap();
    let mut out = HashMap::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        if ty["kind"] != "OBJECT" || ty["name"].as_str().unwrap().starts_with("__") {
            continue;
        }
        let fields = ty["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let (target, object) = named(&f["type"]);
                let required = f["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|a| a["type"]["kind"] == "NON_NULL")
                    .map(|a| (a["name"].as_str().unwrap().to_owned(), named(&a["type"]).0))
                    .collect();
                SchemaField {
                    name: f["name"].as_str().unwrap().to_owned(),
                    target,
                    object,
                    required,
                }
            })
            .collect();
        out.insert(ty["name"].as_str().unwrap().to_owned(), fields);
    }
    out
}

/// Builds one query document: fields picked at random, aliases, inline
/// fragments, named fragments spread more than once, and now and then a
/// fragment that spreads itself.
struct DocumentBuilder<'a> {
    fields: &'a HashMap<String, Vec<SchemaField>>,
    rng: StdRng,
    aliases: usize,
    fragments: Vec<(String, String, String)>,
}

impl DocumentBuilder<'_> {
    fn selection(&mut self, ty: &str, depth: usize, inside: Option<(usize, &str)>) -> String {
        use rand::Rng;
        let mut out = Vec::new();
        let count = self.rng.random_range(1..=3);
        for _ in 0..count {
            let roll: f64 = self.rng.random();
            if roll < 0.08 && depth < 8 {
                out.push(format!("... on {ty} {{ {} }}", self.selection(ty, depth + 1, inside)));
                continue;
            }
            if roll < 0.2 && depth < 8 {
                if let Some((index, on)) = inside
                    && on == ty
                    && self.rng.random_bool(0.3)
                {
                    out.push(format!("...F{index}"));
                    continue;
                }
                let index = self.fragments.len();
                self.fragments.push((format!("F{index}"), ty.to_owned(), String::new()));
                let body = self.selection(ty, depth + 1, Some((index, ty)));
                self.fragments[index].2 = body;
                for _ in 0..self.rng.random_range(1..=3) {
                    out.push(format!("...F{index}"));
                }
                continue;
            }
            let candidates: Vec<SchemaField> = self.fields[ty]
                .iter()
                .filter(|f| f.required.iter().all(|(_, t)| t == "ID"))
                .filter(|f| !f.object || depth < 9)
                .cloned()
                .collect();
            if candidates.is_empty() {
                out.push("__typename".into());
                continue;
            }
            let field = &candidates[self.rng.random_range(0..candidates.len())];
            let mut text = String::new();
            if self.rng.random_bool(0.2) {
                self.aliases += 1;
                text.push_str(&format!("a{}: ", self.aliases));
            }
            text.push_str(&field.name);
            let mut args: Vec<String> = field
                .required
                .iter()
                .map(|(name, _)| format!("{name}: \"{}\"", self.rng.random_range(1..=25)))
                .collect();
            if field.name == "notifications" && self.rng.random_bool(0.5) {
                args.push(format!("first: {}", [0, 1, 25, 100][self.rng.random_range(0..4)]));
            }
            if !args.is_empty() {
                text.push_str(&format!("({})", args.join(", ")));
            }
            if field.object {
                text.push_str(&format!(
                    " {{ {} }}",
                    self.selection(&field.target.clone(), depth + 1, inside)
                ));
            }
            out.push(text);
        }
        out.join(" ")
    }

    fn document(mut self) -> String {
        let root = self.selection("Query", 0, None);
        let mut document = format!("query {{ {root} }}");
        for (name, on, body) in &self.fragments {
            document.push_str(&format!(" fragment {name} on {on} {{ {body} }}"));
        }
        document
    }
}

#[test]
fn random_documents_cost_at_most_the_budget_and_answer_within_a_second() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, fields) = runtime.block_on(async {
        let app = common::TestApp::spawn(common::Engine::Sqlite).await;
        let group = app
            .ok(
                &app.admin_token,
                "mutation { createProductGroup(input: { name: \"platform\" }) { id } }",
                serde_json::json!({}),
            )
            .await["createProductGroup"]["id"]
            .clone();
        for i in 0..20 {
            app.product(
                &app.admin_token,
                serde_json::json!({ "name": format!("service-{i}"), "productGroupId": group }),
            )
            .await;
        }
        let fields = schema_fields().await;
        (app, fields)
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64);
    // A seed does not shrink into anything more telling; the failing
    // document is printed whole.
    let mut runner = proptest::test_runner::TestRunner::new(Config {
        cases,
        max_shrink_iters: 0,
        ..config()
    });
    let (accepted, refused) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    runner
        .run(&any::<u64>(), |seed| {
            let document = DocumentBuilder {
                fields: &fields,
                rng: StdRng::seed_from_u64(seed),
                aliases: 0,
                fragments: Vec::new(),
            }
            .document();
            let (cost, _) = runtime.block_on(herald::graphql::limits::cost_of(&document, Default::default()));
            let started = std::time::Instant::now();
            let body = runtime.block_on(app.gql(Some(&app.admin_token), &document, serde_json::json!({})));
            let took = started.elapsed();
            prop_assert!(took < Duration::from_secs(1), "{document}\ntook {took:?}");
            let errors = body["errors"].as_array().cloned().unwrap_or_default();
            for error in &errors {
                let code = error["extensions"]["code"].as_str();
                prop_assert!(code.is_some(), "{document}\nan error without a code: {body}");
                prop_assert_ne!(code, Some("INTERNAL_SERVER_ERROR"), "{}", document);
            }
            let refused_whole = errors.iter().any(|e| {
                matches!(
                    e["extensions"]["code"].as_str(),
                    Some("GRAPHQL_VALIDATION_FAILED" | "GRAPHQL_PARSE_FAILED")
                )
            });
            if refused_whole {
                refused.set(refused.get() + 1);
            } else {
                accepted.set(accepted.get() + 1);
                let cost = cost.expect("an accepted document was validated");
                prop_assert!(cost <= herald::graphql::MAX_COMPLEXITY, "{document}\ncosts {cost}");
            }
            Ok(())
        })
        .unwrap();
    // Both sides were exercised.
    let (accepted, refused) = (accepted.get(), refused.get());
    assert!(accepted > 0 && refused > 0, "accepted {accepted}, refused {refused}");
}
