//! Fan-out of new notifications to `notificationCreated` subscribers. Each
//! event is executed and serialised once per query and viewer class, not
//! once per subscriber, and the same bytes go to every subscriber of the
//! class: with thousands of subscribers this is what keeps a gate change
//! from costing thousands of GraphQL executions.
//!
//! A viewer class is what a result can depend on: administrator or not, and
//! the role on the notification's product. A query selecting a field that
//! depends on who asks beyond that (the schema says which:
//! `graphql::viewer`) is run per user.
//!
//! The fan-out knows no schema: it runs each class's request on any
//! `async_graphql::Executor`, carrying a [`Rendering`] that the schema's
//! `notificationCreated` resolver turns into its one result.
//!
//! Each connection receives its results through a bounded [`Outbox`]. A
//! connection whose outbox is full has fallen behind: its subscriptions are
//! taken out of the fan-out and the connection tells the client to reload
//! and subscribe again, rather than drop events silently or grow memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{Notify, watch};

use super::LiveEvent;
use super::protocol::Operation;
use crate::auth::Identity;
use crate::domain::notification::{Visibility, visibility};
use crate::domain::{NotificationType, Role};

/// Results a connection may have queued before it counts as fallen behind.
pub const OUTBOX_CAPACITY: usize = 256;
/// Distinct `notificationCreated` queries one user may hold: each costs an
/// execution per event for everyone's fan-out, so one user's many unique
/// queries must not slow the others.
pub const MAX_QUERIES_PER_USER: usize = 16;

/// One result for one subscription of a connection.
pub struct Frame {
    /// The fan-out's key of the subscription: the connection sends it only
    /// while that same subscription runs (its id may have been reused).
    pub key: u64,
    pub id: Arc<str>,
    /// The serialised GraphQL response, shared by the whole viewer class.
    pub payload: Arc<str>,
}

/// Where a connection receives its fanned-out results: a bounded queue
/// and the subscriptions that fell behind, behind one wake-up. A plain
/// locked queue, because an idle connection's outbox should cost next to
/// nothing (a tokio channel allocates a block of slots up front).
#[derive(Clone, Default)]
pub struct Outbox(Arc<OutboxInner>);

#[derive(Default)]
struct OutboxInner {
    queue: Mutex<Queued>,
    notify: Notify,
}

#[derive(Default)]
struct Queued {
    frames: VecDeque<Frame>,
    fell_behind: Vec<(u64, Arc<str>)>,
}

/// What a connection takes from its outbox at once.
pub struct Delivery {
    pub frames: VecDeque<Frame>,
    /// Subscriptions (key and id) that fell behind, after their queued results.
    pub fell_behind: Vec<(u64, Arc<str>)>,
}

/// Whether a result was queued.
enum Queue {
    Queued,
    FellBehind,
}

impl Outbox {
    /// Resolves when something was queued since the last [`Outbox::take`].
    pub async fn ready(&self) {
        self.0.notify.notified().await
    }

    pub fn take(&self) -> Delivery {
        let mut queued = self.0.queue.lock().expect("outbox lock");
        Delivery {
            frames: std::mem::take(&mut queued.frames),
            fell_behind: std::mem::take(&mut queued.fell_behind),
        }
    }

    fn push(&self, frame: Frame) -> Queue {
        let mut queued = self.0.queue.lock().expect("outbox lock");
        let outcome = if queued.frames.len() < OUTBOX_CAPACITY {
            queued.frames.push_back(frame);
            Queue::Queued
        } else {
            queued.fell_behind.push((frame.key, frame.id));
            Queue::FellBehind
        };
        drop(queued);
        self.0.notify.notify_one();
        outcome
    }

    fn fell_behind(&self, key: u64, id: Arc<str>) {
        self.0.queue.lock().expect("outbox lock").fell_behind.push((key, id));
        self.0.notify.notify_one();
    }
}

/// A query as subscribers sent it, shared by all who sent the same.
pub struct Template {
    key: TemplateKey,
    pub operation: Operation,
    /// Depends on the viewer beyond their class: executed per user.
    per_user: bool,
}

/// Query, variables and operation name.
type TemplateKey = (String, String, Option<String>);

struct Subscriber {
    template: Arc<Template>,
    who: Arc<Identity>,
    id: Arc<str>,
    outbox: Outbox,
}

#[derive(Default)]
struct Registry {
    next_key: u64,
    subscribers: HashMap<u64, Subscriber>,
    templates: HashMap<TemplateKey, Weak<Template>>,
    /// Per user: their subscriptions per distinct template.
    templates_of: HashMap<i64, HashMap<usize, usize>>,
}

impl Registry {
    fn remove(&mut self, key: u64) -> Option<Subscriber> {
        let subscriber = self.subscribers.remove(&key)?;
        let user = subscriber.who.user_id();
        if let Some(mine) = self.templates_of.get_mut(&user) {
            let template = Arc::as_ptr(&subscriber.template) as usize;
            if let Some(n) = mine.get_mut(&template) {
                *n -= 1;
                if *n == 0 {
                    mine.remove(&template);
                }
            }
            if mine.is_empty() {
                self.templates_of.remove(&user);
            }
        }
        // This subscriber and the map's weak reference: the last user.
        if Arc::strong_count(&subscriber.template) == 1 {
            self.templates.remove(&subscriber.template.key);
        }
        Some(subscriber)
    }
}

/// This process's `notificationCreated` subscribers.
pub struct FanOut {
    registry: Mutex<Registry>,
    gauge: Gauge,
    /// The id of the last bus event the fan-out has handled.
    pub(super) handled: watch::Sender<i64>,
}

/// Held by the connection while the subscription runs; dropping it ends it.
pub struct Registration {
    fanout: Arc<FanOut>,
    key: u64,
}

impl Registration {
    pub fn key(&self) -> u64 {
        self.key
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.fanout.remove(self.key);
    }
}

/// What a websocket subscription carries into the `notificationCreated`
/// resolver, which hands it to the fan-out once async-graphql has parsed,
/// validated and authorised the subscription.
pub struct Slot {
    pub id: Arc<str>,
    pub operation: Operation,
    pub who: Arc<Identity>,
    pub outbox: Outbox,
    registration: Mutex<Option<Registration>>,
}

impl Slot {
    pub fn new(id: Arc<str>, operation: Operation, who: Arc<Identity>, outbox: Outbox) -> Self {
        Self {
            id,
            operation,
            who,
            outbox,
            registration: Mutex::new(None),
        }
    }

    /// Hands the subscription to the fan-out; refused when its user holds
    /// too many distinct queries already. `per_user`: the query selects a
    /// field whose value depends on who asks beyond administrator-or-not and
    /// the role on the product (the schema knows which: `graphql::viewer`),
    /// so it is executed for each user on their own.
    pub fn register(&self, fanout: &Arc<FanOut>, per_user: bool) -> Result<(), String> {
        let registration = fanout.register(self, per_user)?;
        *self.registration.lock().expect("slot lock") = Some(registration);
        Ok(())
    }

    /// The fan-out's key, once the subscription is registered.
    pub fn registered_key(&self) -> Option<u64> {
        self.registration
            .lock()
            .expect("slot lock")
            .as_ref()
            .map(Registration::key)
    }

    /// The registration, if the subscription went to the fan-out.
    pub fn take_registration(&self) -> Option<Registration> {
        self.registration.lock().expect("slot lock").take()
    }
}

/// Subscribers who receive the same bytes.
pub(super) struct Class {
    pub(super) template: Arc<Template>,
    pub(super) who: Arc<Identity>,
    pub(super) visibility: Visibility,
    pub(super) role: Option<Role>,
    pub(super) members: Vec<u64>,
}

impl FanOut {
    pub fn new(gauge: Gauge) -> Self {
        Self {
            registry: Mutex::default(),
            gauge,
            handled: watch::channel(0).0,
        }
    }

    /// Waits until the fan-out has handled event `id` and every event
    /// before it, so that what other streams send about that event follows
    /// the notifications it queued (a deletion after its creation). Gives
    /// up after a few seconds rather than hold a stream should it stall.
    pub async fn caught_up_with(&self, id: i64) {
        let mut handled = self.handled.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(5), handled.wait_for(|last| *last >= id)).await;
    }

    fn register(self: &Arc<Self>, slot: &Slot, per_user: bool) -> Result<Registration, String> {
        // Parsed before taking the lock, which every event's fan-out needs.
        let op = &slot.operation;
        let key: TemplateKey = (
            op.query.clone(),
            op.variables.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            op.operation_name.clone(),
        );
        let mut registry = self.registry.lock().expect("fan-out lock");
        let template = match registry.templates.get(&key).and_then(Weak::upgrade) {
            Some(template) => template,
            None => {
                let template = Arc::new(Template {
                    per_user,
                    operation: op.clone(),
                    key: key.clone(),
                });
                registry.templates.insert(key, Arc::downgrade(&template));
                template
            }
        };
        let user = slot.who.user_id();
        let mine = registry.templates_of.entry(user).or_default();
        let shared = Arc::as_ptr(&template) as usize;
        if !mine.contains_key(&shared) && mine.len() >= MAX_QUERIES_PER_USER {
            // A template made for this refused subscription goes at once.
            if Arc::strong_count(&template) == 1 {
                registry.templates.remove(&template.key);
            }
            return Err(format!(
                "at most {MAX_QUERIES_PER_USER} different notificationCreated queries per user"
            ));
        }
        *mine.entry(shared).or_default() += 1;
        registry.next_key += 1;
        let key = registry.next_key;
        registry.subscribers.insert(
            key,
            Subscriber {
                template,
                who: slot.who.clone(),
                id: slot.id.clone(),
                outbox: slot.outbox.clone(),
            },
        );
        self.gauge.inc();
        Ok(Registration {
            fanout: self.clone(),
            key,
        })
    }

    fn remove(&self, key: u64) {
        // Runs in drop: a poisoned lock must not turn a panic into an abort.
        let mut registry = self.registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if registry.remove(key).is_some() {
            self.gauge.dec();
        }
    }

    /// Forgets templates nobody uses any more: a subscriber that left while
    /// a fan-out held its template could not remove it then.
    pub(super) fn forget_unused_templates(&self) {
        let mut registry = self.registry.lock().expect("fan-out lock");
        registry.templates.retain(|_, template| template.strong_count() > 0);
    }

    pub fn subscribers(&self) -> usize {
        self.registry.lock().expect("fan-out lock").subscribers.len()
    }

    /// Groups the subscribers who may see a `kind` notification into
    /// classes; `role_of` gives a non-administrator's role on its product.
    pub(super) fn classify(&self, kind: NotificationType, role_of: impl Fn(i64) -> Option<Role>) -> Vec<Class> {
        type ClassKey = (usize, bool, Option<Role>, Option<i64>);
        let registry = self.registry.lock().expect("fan-out lock");
        let mut classes: HashMap<ClassKey, Class> = HashMap::new();
        for (key, s) in &registry.subscribers {
            let admin = s.who.is_admin();
            let role = if admin {
                Some(Role::Owner)
            } else {
                role_of(s.who.user_id())
            };
            let seen = visibility(kind, admin, role);
            if seen == Visibility::Hidden {
                continue;
            }
            let user = s.template.per_user.then(|| s.who.user_id());
            let class_key = (Arc::as_ptr(&s.template) as usize, admin, role, user);
            classes
                .entry(class_key)
                .or_insert_with(|| Class {
                    template: s.template.clone(),
                    who: s.who.clone(),
                    visibility: seen,
                    role,
                    members: Vec::new(),
                })
                .members
                .push(*key);
        }
        classes.into_values().collect()
    }

    /// Queues `payload` for `members`; those whose outbox is full fell
    /// behind and leave the fan-out.
    pub(super) fn send(&self, members: &[u64], payload: &Arc<str>) {
        let mut registry = self.registry.lock().expect("fan-out lock");
        let mut gone = Vec::new();
        for key in members {
            let Some(s) = registry.subscribers.get(key) else {
                continue;
            };
            let frame = Frame {
                key: *key,
                id: s.id.clone(),
                payload: payload.clone(),
            };
            if let Queue::FellBehind = s.outbox.push(frame) {
                gone.push(*key);
            }
        }
        for key in gone {
            if registry.remove(key).is_some() {
                self.gauge.dec();
            }
        }
    }

    /// Every subscriber missed events (the fan-out itself fell behind, or
    /// could not read what an event needs): all are told to resubscribe.
    pub(super) fn all_fell_behind(&self) {
        let mut registry = self.registry.lock().expect("fan-out lock");
        for (key, s) in registry.subscribers.drain() {
            s.outbox.fell_behind(key, s.id.clone());
            self.gauge.dec();
        }
        registry.templates.clear();
        registry.templates_of.clear();
    }
}

/// One new notification as the fan-out renders it for a class of viewers:
/// the request carrying it yields that notification once.
pub struct Rendering {
    pub event: Arc<LiveEvent>,
    pub visibility: Visibility,
    pub role: Option<Role>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64) -> Arc<Identity> {
        Arc::new(Identity {
            user: crate::entity::user::Model {
                id,
                username: format!("user{id}"),
                email: None,
                full_name: None,
                password_hash: String::new(),
                is_admin: false,
                created_at: chrono::Utc::now(),
            },
        })
    }

    fn operation(query: &str) -> Operation {
        Operation {
            query: query.to_owned(),
            variables: None,
            operation_name: None,
        }
    }

    #[test]
    fn members_of_a_class_share_one_execution_and_strangers_get_nothing() {
        let fanout = Arc::new(FanOut::new(Gauge::default()));
        let outbox = Outbox::default();
        let query = "subscription { notificationCreated { id } }";
        let slots: Vec<Slot> = (1..=3)
            .map(|user| {
                Slot::new(
                    format!("s{user}").into(),
                    operation(query),
                    member(user),
                    outbox.clone(),
                )
            })
            .collect();
        slots.iter().for_each(|s| s.register(&fanout, false).unwrap());
        let per_user = Slot::new(
            "p".into(),
            operation("subscription { notificationCreated { user { email } } }"),
            member(4),
            outbox,
        );
        per_user.register(&fanout, true).unwrap();
        assert_eq!(fanout.subscribers(), 4);

        // Users 1 and 2 read, 3 owns, 4 reads with a per-user query, 5 is nobody.
        let roles = HashMap::from([
            (1, Role::Reader),
            (2, Role::Reader),
            (3, Role::Owner),
            (4, Role::Reader),
        ]);
        let mut classes = fanout.classify(NotificationType::SecurityGate, |u| roles.get(&u).copied());
        classes.sort_by_key(|c| c.members.len());
        let sizes: Vec<usize> = classes.iter().map(|c| c.members.len()).collect();
        assert_eq!(
            sizes,
            [1, 1, 2],
            "readers share, the owner and the per-user query do not"
        );
        assert!(
            fanout
                .classify(NotificationType::Exception, |u| roles.get(&u).copied())
                .is_empty()
        );

        // Ending a subscription takes it out; its template goes with the last.
        drop(classes);
        drop(per_user.take_registration());
        assert_eq!(fanout.subscribers(), 3);
        assert_eq!(fanout.registry.lock().unwrap().templates.len(), 1);
    }

    #[test]
    fn one_user_holds_a_bounded_number_of_distinct_queries() {
        let fanout = Arc::new(FanOut::new(Gauge::default()));
        let outbox = Outbox::default();
        let slot = |user: i64, n: usize| {
            let query = format!("subscription {{ notificationCreated {{ id n{n}: name }} }}");
            Slot::new(format!("{n}").into(), operation(&query), member(user), outbox.clone())
        };
        let held: Vec<Slot> = (0..MAX_QUERIES_PER_USER).map(|n| slot(1, n)).collect();
        held.iter().for_each(|s| s.register(&fanout, false).unwrap());
        assert!(
            slot(1, MAX_QUERIES_PER_USER).register(&fanout, false).is_err(),
            "one more is refused"
        );
        slot(1, 0)
            .register(&fanout, false)
            .expect("the same query again is free");
        slot(2, MAX_QUERIES_PER_USER)
            .register(&fanout, false)
            .expect("others are not limited by it");
        drop(held[3].take_registration());
        slot(1, MAX_QUERIES_PER_USER)
            .register(&fanout, false)
            .expect("a place was freed");
    }

    #[test]
    fn a_connection_that_does_not_read_falls_behind_and_is_told() {
        let gauge = Gauge::default();
        let fanout = Arc::new(FanOut::new(gauge.clone()));
        let outbox = Outbox::default();
        let slot = Slot::new(
            "1".into(),
            operation("subscription { notificationCreated { id } }"),
            member(1),
            outbox.clone(),
        );
        slot.register(&fanout, false).unwrap();
        let key = fanout
            .registry
            .lock()
            .unwrap()
            .subscribers
            .keys()
            .copied()
            .next()
            .unwrap();
        let payload: Arc<str> = "{}".into();
        for _ in 0..OUTBOX_CAPACITY {
            fanout.send(&[key], &payload);
        }
        assert_eq!(fanout.subscribers(), 1, "a full outbox is not yet behind");
        fanout.send(&[key], &payload);
        assert_eq!(fanout.subscribers(), 0, "one more and it is out");
        assert_eq!(gauge.get(), 0);
        // What was queued before is still there for the client, then the notice.
        let delivery = outbox.take();
        assert_eq!(delivery.frames.len(), OUTBOX_CAPACITY);
        assert_eq!(delivery.fell_behind, vec![(key, Arc::<str>::from("1"))]);
        fanout.send(&[key], &payload);
        assert!(outbox.take().frames.is_empty(), "nothing more after leaving");
        drop(slot.take_registration());
        assert_eq!(gauge.get(), 0, "leaving twice counts once");
    }
}
