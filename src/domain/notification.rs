//! Notifications: their kinds, channels and delivery states, who may see
//! them, and what they say.

use chrono::{DateTime, Utc};

use super::stored_name::stored_name;
use super::{BaseUrl, EmailList, NotificationTargets, Role, SecurityGateStatus, WebhookUrl};

/// Declares an enum whose GraphQL and stored spelling is SCREAMING_SNAKE.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, sea_orm::DeriveValueType)]
        #[sea_orm(value_type = "String")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        stored_name!($name);
    };
}

stored_enum!(NotificationType {
    SecurityGate => "SECURITY_GATE",
    Exception => "EXCEPTION",
    Task => "TASK",
});

stored_enum!(Channel {
    Email => "EMAIL",
    MsTeams => "MS_TEAMS",
    Slack => "SLACK",
});

stored_enum!(DeliveryStatus {
    Pending => "PENDING",
    Retrying => "RETRYING",
    Sent => "SENT",
    Failed => "FAILED",
});

/// How much of a notification a user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Full,
    /// A TASK notification seen by a product member: without message and trace.
    WithoutDetails,
    Hidden,
}

/// Administrators see everything. Others see SECURITY_GATE and TASK
/// notifications of products they are a member of (directly or through the
/// group), TASK ones without message and trace; EXCEPTION notifications and
/// those without a product are for administrators only.
pub fn visibility(kind: NotificationType, is_admin: bool, role_on_product: Option<Role>) -> Visibility {
    if is_admin {
        return Visibility::Full;
    }
    match (kind, role_on_product) {
        (NotificationType::SecurityGate, Some(_)) => Visibility::Full,
        (NotificationType::Task, Some(_)) => Visibility::WithoutDetails,
        _ => Visibility::Hidden,
    }
}

/// The kinds a member of a notification's product sees, whatever their
/// role: [`visibility`] read as the SQL that lists and counts use.
pub fn kinds_members_see() -> impl Iterator<Item = NotificationType> {
    NotificationType::ALL
        .iter()
        .copied()
        .filter(|kind| visibility(*kind, false, Some(Role::Reader)) != Visibility::Hidden)
}

/// Deleting removes a notification for everybody: administrators, or the
/// OWNER of its product.
pub fn may_delete(is_admin: bool, role_on_product: Option<Role>) -> bool {
    is_admin || role_on_product == Some(Role::Owner)
}

/// Whose setting a delivery's target came from, and so who may read it
/// whole: the product's, its group's (a fallback), the global settings'
/// exception recipients, or an administrator's test send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetOrigin {
    Product(i64),
    ProductGroup(i64),
    Settings,
    Test,
}

impl TargetOrigin {
    /// The stored kind; the id is stored beside it.
    pub fn kind(self) -> &'static str {
        match self {
            TargetOrigin::Product(_) => "PRODUCT",
            TargetOrigin::ProductGroup(_) => "PRODUCT_GROUP",
            TargetOrigin::Settings => "SETTINGS",
            TargetOrigin::Test => "TEST",
        }
    }

    pub fn id(self) -> Option<i64> {
        match self {
            TargetOrigin::Product(id) | TargetOrigin::ProductGroup(id) => Some(id),
            TargetOrigin::Settings | TargetOrigin::Test => None,
        }
    }

    /// Reads the stored pair. Anything else (rows from before the origin was
    /// kept, a missing id) counts as the settings: administrators only.
    pub fn from_stored(kind: &str, id: Option<i64>) -> Self {
        match (kind, id) {
            ("PRODUCT", Some(id)) => TargetOrigin::Product(id),
            ("PRODUCT_GROUP", Some(id)) => TargetOrigin::ProductGroup(id),
            ("TEST", _) => TargetOrigin::Test,
            _ => TargetOrigin::Settings,
        }
    }
}

/// Whether a caller reads a delivery's target whole: only who may read the
/// setting it came from. Webhook URLs are secrets of MAINTAINER+ (of the
/// product, or of the group for a fallback); addresses are read by every
/// member of the product, or of the group; the global settings and test
/// sends by administrators only. `product_role` is the caller's role on the
/// notification's product, `group_role` their own role on the origin group.
pub fn may_read_target(
    origin: TargetOrigin,
    channel: Channel,
    is_admin: bool,
    product_role: Option<Role>,
    group_role: Option<Role>,
) -> bool {
    if is_admin {
        return true;
    }
    let reads = |role: Option<Role>| match channel {
        Channel::Email => role.is_some(),
        Channel::MsTeams | Channel::Slack => role.is_some_and(|r| r >= Role::Maintainer),
    };
    match origin {
        TargetOrigin::Product(_) => reads(product_role),
        TargetOrigin::ProductGroup(_) => reads(group_role),
        TargetOrigin::Settings | TargetOrigin::Test => false,
    }
}

/// A target as shown to who may not read it whole: the mail domain, or the
/// webhook's scheme and host; enough to tell targets apart on screen.
pub fn masked_target(channel: Channel, target: &str) -> String {
    match channel {
        Channel::Email => match target.rsplit_once('@') {
            Some((_, domain)) => format!("…@{domain}"),
            None => "…".into(),
        },
        Channel::MsTeams | Channel::Slack => WebhookUrl::parse("target", target)
            .map(|u| u.masked())
            .unwrap_or_else(|_| "…".into()),
    }
}

/// One recipient of a notification on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub channel: Channel,
    /// An email address or a webhook URL.
    pub target: String,
    pub origin: TargetOrigin,
}

/// Where a product's gate change goes: each channel from the product, or
/// from its group when the product's is empty. Each target remembers which
/// of the two it came from.
pub fn gate_recipients(
    product: (i64, &NotificationTargets),
    group: Option<(i64, &NotificationTargets)>,
) -> Vec<Recipient> {
    let (product_id, own) = product;
    let mine = TargetOrigin::Product(product_id);
    let mut out = Vec::new();
    match group {
        Some((group_id, g)) if own.email_to.is_empty() => {
            out.extend(email_recipients(&g.email_to, TargetOrigin::ProductGroup(group_id)))
        }
        _ => out.extend(email_recipients(&own.email_to, mine)),
    }
    let pick = |own: &Option<WebhookUrl>, of_group: Option<(i64, &Option<WebhookUrl>)>| match (own, of_group) {
        (Some(url), _) => Some((url.clone(), mine)),
        (None, Some((group_id, Some(url)))) => Some((url.clone(), TargetOrigin::ProductGroup(group_id))),
        _ => None,
    };
    let teams = pick(&own.ms_teams_webhook, group.map(|(id, g)| (id, &g.ms_teams_webhook)));
    let slack = pick(&own.slack_webhook, group.map(|(id, g)| (id, &g.slack_webhook)));
    out.extend(webhook_recipients(teams, slack));
    out
}

/// One recipient per address, plus the Teams and Slack webhooks when set,
/// all from one origin.
pub fn recipients(
    emails: &EmailList,
    teams: Option<&WebhookUrl>,
    slack: Option<&WebhookUrl>,
    origin: TargetOrigin,
) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = email_recipients(emails, origin).collect();
    out.extend(webhook_recipients(
        teams.map(|u| (u.clone(), origin)),
        slack.map(|u| (u.clone(), origin)),
    ));
    out
}

fn email_recipients(emails: &EmailList, origin: TargetOrigin) -> impl Iterator<Item = Recipient> + '_ {
    emails.iter().map(move |a| Recipient {
        channel: Channel::Email,
        target: a.as_str().to_owned(),
        origin,
    })
}

fn webhook_recipients(
    teams: Option<(WebhookUrl, TargetOrigin)>,
    slack: Option<(WebhookUrl, TargetOrigin)>,
) -> impl Iterator<Item = Recipient> {
    let teams = teams.map(|(url, origin)| Recipient {
        channel: Channel::MsTeams,
        target: url.expose().to_owned(),
        origin,
    });
    let slack = slack.map(|(url, origin)| Recipient {
        channel: Channel::Slack,
        target: url.expose().to_owned(),
        origin,
    });
    teams.into_iter().chain(slack)
}

/// The stored name of a gate change.
pub fn gate_name(status: SecurityGateStatus) -> String {
    format!("Security gate has changed to {}", status.label())
}

/// The subject of a gate change message.
pub fn gate_subject(product_name: &str, status: SecurityGateStatus) -> String {
    format!("Security gate for {product_name} has changed to {}", status.label())
}

/// The stored name and subject of an exception (SecObserve wrote "occured").
pub fn exception_name(class: &str, in_task: bool) -> String {
    if in_task {
        format!("Exception \"{class}\" has occurred in background task")
    } else {
        format!("Exception \"{class}\" has occurred")
    }
}

/// Everything a message about a notification says, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: NotificationType,
    pub subject: String,
    /// Label and value, in order (product, status, class, message, time…).
    pub facts: Vec<(String, String)>,
    pub trace: Option<String>,
    /// The product's page in the SPA, when a base URL is set.
    pub link: Option<String>,
}

/// What a stored notification holds, for rendering.
#[derive(Debug, Clone)]
pub struct NotificationContent<'a> {
    pub kind: NotificationType,
    pub name: &'a str,
    pub message: Option<&'a str>,
    pub product: Option<(i64, &'a str)>,
    pub gate: Option<SecurityGateStatus>,
    pub user: Option<&'a str>,
    pub function: Option<&'a str>,
    pub arguments: Option<&'a str>,
    pub trace: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub repeat: Option<(i64, DateTime<Utc>)>,
}

pub fn render(n: &NotificationContent<'_>, base_url: Option<&BaseUrl>) -> Rendered {
    let time = n.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let mut facts = Vec::new();
    let subject = match (n.kind, n.product, n.gate) {
        (NotificationType::SecurityGate, Some((_, product)), Some(status)) => {
            facts.push(("Product".to_owned(), product.to_owned()));
            facts.push(("Security gate".to_owned(), status.label().to_owned()));
            gate_subject(product, status)
        }
        _ => n.name.to_owned(),
    };
    if n.kind != NotificationType::SecurityGate {
        if let Some((_, product)) = n.product {
            facts.push(("Product".to_owned(), product.to_owned()));
        }
        if let Some(message) = n.message {
            facts.push(("Message".to_owned(), message.to_owned()));
        }
        if let Some(function) = n.function {
            facts.push(("Function".to_owned(), function.to_owned()));
        }
        if let Some(arguments) = n.arguments {
            facts.push(("Arguments".to_owned(), arguments.to_owned()));
        }
    }
    if let Some(user) = n.user {
        facts.push(("User".to_owned(), user.to_owned()));
    }
    facts.push(("Time".to_owned(), time));
    if let Some((count, since)) = n.repeat {
        facts.push((
            "Repeated".to_owned(),
            format!(
                "occurred {count} {} since {} without a message (rate limit)",
                if count == 1 { "time" } else { "times" },
                since.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        ));
    }
    Rendered {
        kind: n.kind,
        subject,
        facts,
        trace: n.trace.map(str::to_owned),
        link: n.product.and_then(|(id, _)| base_url.map(|b| b.product_page(id))),
    }
}

/// The message of `sendTestNotification`.
pub fn render_test(now: DateTime<Utc>) -> Rendered {
    Rendered {
        kind: NotificationType::SecurityGate,
        subject: "Test notification from Herald".to_owned(),
        facts: vec![
            (
                "Message".to_owned(),
                "This channel receives Herald's notifications.".to_owned(),
            ),
            ("Time".to_owned(), now.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ],
        trace: None,
        link: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(emails: &[&str], teams: Option<&str>, slack: Option<&str>) -> NotificationTargets {
        NotificationTargets {
            email_to: EmailList::parse("f", emails).unwrap(),
            ms_teams_webhook: teams.map(|u| WebhookUrl::parse("f", u).unwrap()),
            slack_webhook: slack.map(|u| WebhookUrl::parse("f", u).unwrap()),
        }
    }

    #[test]
    fn visibility_follows_the_rules() {
        use NotificationType::*;
        for kind in NotificationType::ALL {
            assert_eq!(visibility(*kind, true, None), Visibility::Full);
            assert_eq!(visibility(*kind, false, None), Visibility::Hidden);
        }
        for role in Role::ALL {
            assert_eq!(visibility(SecurityGate, false, Some(role)), Visibility::Full);
            assert_eq!(visibility(Task, false, Some(role)), Visibility::WithoutDetails);
            assert_eq!(visibility(Exception, false, Some(role)), Visibility::Hidden);
        }
    }

    #[test]
    fn what_members_see_does_not_depend_on_their_role() {
        // The SQL form (`store::sight`) keeps a row by its kind and whether
        // the user holds any role on its product; that is only the rule while
        // hiding never depends on which role.
        let kinds: Vec<_> = kinds_members_see().collect();
        assert_eq!(kinds, [NotificationType::SecurityGate, NotificationType::Task]);
        for kind in NotificationType::ALL {
            for role in Role::ALL {
                let hidden = visibility(*kind, false, Some(role)) == Visibility::Hidden;
                assert_eq!(hidden, !kinds.contains(kind), "{kind:?} for {role:?}");
            }
        }
    }

    #[test]
    fn only_admins_and_owners_delete() {
        assert!(may_delete(true, None));
        assert!(may_delete(false, Some(Role::Owner)));
        assert!(!may_delete(false, Some(Role::Maintainer)));
        assert!(!may_delete(false, None));
    }

    #[test]
    fn each_channel_falls_back_to_the_group_on_its_own_and_says_so() {
        let product = targets(&[], Some("https://t.example.com/p"), None);
        let group = targets(
            &["g@example.com", "h@example.com"],
            Some("https://t.example.com/g"),
            Some("https://s.example.com/g"),
        );
        let got = gate_recipients((1, &product), Some((9, &group)));
        let want = vec![
            Recipient {
                channel: Channel::Email,
                target: "g@example.com".into(),
                origin: TargetOrigin::ProductGroup(9),
            },
            Recipient {
                channel: Channel::Email,
                target: "h@example.com".into(),
                origin: TargetOrigin::ProductGroup(9),
            },
            Recipient {
                channel: Channel::MsTeams,
                target: "https://t.example.com/p".into(),
                origin: TargetOrigin::Product(1),
            },
            Recipient {
                channel: Channel::Slack,
                target: "https://s.example.com/g".into(),
                origin: TargetOrigin::ProductGroup(9),
            },
        ];
        assert_eq!(got, want);
        assert!(gate_recipients((1, &targets(&[], None, None)), None).is_empty());
        let own = gate_recipients((1, &targets(&["p@example.com"], None, None)), Some((9, &group)));
        assert_eq!(own[0].target, "p@example.com");
        assert_eq!(own[0].origin, TargetOrigin::Product(1));
        assert_eq!(own.len(), 3);
        let settings = recipients(
            &group.email_to,
            None,
            group.slack_webhook.as_ref(),
            TargetOrigin::Settings,
        );
        assert!(settings.iter().all(|r| r.origin == TargetOrigin::Settings));
        assert_eq!(settings.len(), 3);
    }

    #[test]
    fn masking_keeps_only_the_domain_or_the_host() {
        assert_eq!(masked_target(Channel::Email, "sec@example.com"), "…@example.com");
        assert_eq!(
            masked_target(Channel::Slack, "https://hooks.slack.com/services/T/B/SECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(masked_target(Channel::MsTeams, "not a url"), "…");
        assert_eq!(masked_target(Channel::Email, "no-at-sign"), "…");
    }

    #[test]
    fn origins_round_trip_and_unknown_ones_are_the_settings() {
        for origin in [
            TargetOrigin::Product(3),
            TargetOrigin::ProductGroup(4),
            TargetOrigin::Settings,
            TargetOrigin::Test,
        ] {
            assert_eq!(TargetOrigin::from_stored(origin.kind(), origin.id()), origin);
        }
        assert_eq!(TargetOrigin::from_stored("PRODUCT", None), TargetOrigin::Settings);
        assert_eq!(TargetOrigin::from_stored("PRODUCT_GROUP", None), TargetOrigin::Settings);
        assert_eq!(TargetOrigin::from_stored("", Some(1)), TargetOrigin::Settings);
    }

    #[test]
    fn a_target_is_read_whole_only_by_who_may_read_its_setting() {
        use Channel::*;
        use TargetOrigin::*;
        let webhook_reader = |r: Role| r >= Role::Maintainer;
        for channel in Channel::ALL.iter().copied() {
            for origin in [Product(1), ProductGroup(2), Settings, Test] {
                assert!(may_read_target(origin, channel, true, None, None), "admins read all");
                assert!(
                    !may_read_target(origin, channel, false, None, None),
                    "strangers read none"
                );
            }
            for role in Role::ALL {
                let expected = match channel {
                    Email => true,
                    MsTeams | Slack => webhook_reader(role),
                };
                assert_eq!(may_read_target(Product(1), channel, false, Some(role), None), expected);
                assert_eq!(
                    may_read_target(ProductGroup(2), channel, false, None, Some(role)),
                    expected
                );
                // A role on the product says nothing about the group's setting.
                assert!(!may_read_target(ProductGroup(2), channel, false, Some(role), None));
                assert!(!may_read_target(Product(1), channel, false, None, Some(role)));
                assert!(!may_read_target(Settings, channel, false, Some(role), Some(role)));
                assert!(!may_read_target(Test, channel, false, Some(role), Some(role)));
            }
        }
    }

    #[test]
    fn texts_keep_secobserves_words_spelled_right() {
        assert_eq!(
            gate_name(SecurityGateStatus::Failed),
            "Security gate has changed to Failed"
        );
        assert_eq!(
            gate_subject("Shop", SecurityGateStatus::Passed),
            "Security gate for Shop has changed to Passed"
        );
        assert_eq!(exception_name("DbErr", false), "Exception \"DbErr\" has occurred");
        assert_eq!(
            exception_name("DbErr", true),
            "Exception \"DbErr\" has occurred in background task"
        );
    }

    #[test]
    fn rendering_links_the_product_and_reports_repeats() {
        let at = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let content = NotificationContent {
            kind: NotificationType::SecurityGate,
            name: "Security gate has changed to Failed",
            message: None,
            product: Some((7, "Shop")),
            gate: Some(SecurityGateStatus::Failed),
            user: Some("alice"),
            function: None,
            arguments: None,
            trace: None,
            created_at: at,
            repeat: None,
        };
        let base = BaseUrl::parse("b", "https://herald.example.com").unwrap();
        let r = render(&content, Some(&base));
        assert_eq!(r.subject, "Security gate for Shop has changed to Failed");
        assert_eq!(r.link.as_deref(), Some("https://herald.example.com/products/7"));
        assert!(r.facts.contains(&("Time".into(), "2026-11-25 10:00:00 UTC".into())));
        assert_eq!(render(&content, None).link, None);

        let exception = NotificationContent {
            kind: NotificationType::Exception,
            name: "Exception \"DbErr\" has occurred",
            message: Some("connection reset"),
            product: None,
            gate: None,
            user: None,
            function: None,
            arguments: None,
            trace: Some("at herald::x"),
            created_at: at,
            repeat: Some((17, at)),
        };
        let r = render(&exception, Some(&base));
        assert_eq!(r.subject, "Exception \"DbErr\" has occurred");
        assert!(
            r.facts
                .iter()
                .any(|(k, v)| k == "Repeated" && v.starts_with("occurred 17 times since 2026-11-25"))
        );
        assert_eq!(r.trace.as_deref(), Some("at herald::x"));
    }
}
