//! Immutable snapshots of the metadata, published to every core.
//!
//! A [`Snapshot`] is built from the store's records ([`Snapshot::build`]) and
//! published through the [`SnapshotHub`]. Each core keeps a [`LocalSnapshot`]:
//! per request it compares one atomic generation number and only takes the hub's
//! mutex when the generation moved, so the hot path takes no cross-core lock.
//!
//! # Invariants
//! - Backend indices (used by placement) are positions in `Snapshot::backends`,
//!   sorted by backend id, so they are stable for a given backend set.
//! - The [`BucketState`] of a bucket id survives snapshot swaps: in-flight write
//!   counts are never reset by a publish.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::model::{BackendRecord, BucketRecord, MetaContents};
use crate::config::Endpoint;
use crate::placement::{self, Candidate};
use crate::secret::Secret;

/// A backend as the cores see it.
#[derive(Debug)]
pub struct BackendInfo {
    pub index: u16,
    pub id: String,
    pub endpoint: Endpoint,
    pub region: String,
    pub access_key: String,
    pub secret_key: Secret,
    pub signing_region: String,
    pub weight: f64,
    /// Placement no longer chooses it (see `admin`: drain); reads still look there.
    pub draining: bool,
    /// Resolved address of an `http://` backend (None when resolution failed;
    /// requests to it then fail as unreachable).
    pub addr: Option<SocketAddr>,
    /// `Host` header value for an `http://` backend.
    pub host_header: String,
}

impl BackendInfo {
    /// The backend `b` at snapshot index `index`. Resolves an `http(s)://`
    /// host name, which may block: call off the event loop.
    pub fn from_record(index: u16, b: &BackendRecord) -> BackendInfo {
        let (addr, host_header) = match &b.endpoint {
            Endpoint::Http { host, port, .. } => {
                let addr = (host.as_str(), *port).to_socket_addrs().ok().and_then(|mut a| a.next());
                let host_header =
                    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
                (addr, host_header)
            }
            Endpoint::File { .. } => (None, String::new()),
        };
        BackendInfo {
            index,
            id: b.id.clone(),
            endpoint: b.endpoint.clone(),
            region: b.region.clone(),
            access_key: b.access_key.clone(),
            secret_key: b.secret_key.clone(),
            signing_region: b.signing_region.clone(),
            weight: b.weight,
            draining: b.draining,
            addr,
            host_header,
        }
    }
}

/// An access key as the cores see it.
#[derive(Debug)]
pub struct KeyInfo {
    pub tenant: String,
    pub secret: Secret,
    pub enabled: bool,
    /// Per-bucket limits; empty = full access to the tenant's buckets.
    pub perms: Vec<super::model::BucketPerm>,
}

/// A `/proxy` API key as the cores see it (found by its stored hash).
#[derive(Debug)]
pub struct ApiKeyInfo {
    pub id: String,
    pub tenant: String,
    pub perms: Vec<super::model::BucketPerm>,
}

/// Live per-bucket state shared by all cores, kept across snapshots.
#[derive(Debug, Default)]
pub struct BucketState {
    /// Writes (PUT, DELETE) currently in flight.
    pub inflight_writes: AtomicUsize,
    /// Set while DeleteBucket runs: new writes are refused.
    pub deleting: AtomicBool,
}

/// A bucket as the cores see it.
#[derive(Debug)]
pub struct BucketInfo {
    pub name: String,
    pub tenant: String,
    pub id: u128,
    pub id_hex: String,
    pub residency: Vec<String>,
    pub replicas: u8,
    /// Writes are accepted while this many eligible backends are healthy.
    pub min_write_replicas: u8,
    pub created: i64,
    /// The bucket's name on every backend.
    pub physical: String,
    /// Backends the residency allows, as placement candidates (draining ones excluded).
    pub candidates: Vec<Candidate>,
    /// Draining backends the residency allows: reads look there last, until
    /// repair has moved their objects.
    pub draining: Vec<u16>,
    pub state: Arc<BucketState>,
}

impl BucketInfo {
    /// Every backend that may hold objects of this bucket: the placement
    /// candidates, then draining backends the residency allows.
    pub fn holders(&self) -> impl Iterator<Item = u16> + '_ {
        self.candidates.iter().map(|c| c.index).chain(self.draining.iter().copied())
    }
}

/// One immutable view of the metadata.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub generation: u64,
    pub backends: Vec<BackendInfo>,
    pub keys: HashMap<String, KeyInfo>,
    pub buckets: HashMap<String, Arc<BucketInfo>>,
    /// `/proxy` API keys by stored hash.
    pub api_keys: HashMap<String, ApiKeyInfo>,
    /// The trusted JWT issuers of `/proxy`.
    pub jwt: crate::admin::jwt::JwtVerifier,
}

impl Snapshot {
    /// Builds a snapshot from store contents. Resolves `http://` hostnames,
    /// which may block: call off the event loop.
    pub fn build(
        contents: &MetaContents,
        generation: u64,
        states: &mut HashMap<u128, Arc<BucketState>>,
    ) -> Snapshot {
        let mut records: Vec<_> = contents.backends.iter().collect();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        let backends: Vec<BackendInfo> =
            records.into_iter().enumerate().map(|(i, b)| BackendInfo::from_record(i as u16, b)).collect();
        let keys = contents
            .keys
            .iter()
            .map(|k| {
                let info = KeyInfo {
                    tenant: k.tenant.clone(),
                    secret: k.secret_key.clone(),
                    enabled: k.enabled,
                    perms: k.perms.clone(),
                };
                (k.access_key.clone(), info)
            })
            .collect();
        let mut live = HashMap::with_capacity(contents.buckets.len());
        let buckets = contents
            .buckets
            .iter()
            .map(|b| {
                let info = bucket_info(b, &backends, states);
                live.insert(info.id, info.state.clone());
                (b.name.clone(), Arc::new(info))
            })
            .collect();
        // Forget the state of buckets that are gone.
        *states = live;
        let api_keys = contents
            .api_keys
            .iter()
            .map(|(hash, k)| {
                (
                    hash.clone(),
                    ApiKeyInfo { id: k.id.clone(), tenant: k.tenant.clone(), perms: k.perms.clone() },
                )
            })
            .collect();
        let jwt = crate::admin::jwt::JwtVerifier::lenient(&contents.jwt_issuers);
        Snapshot { generation, backends, keys, buckets, api_keys, jwt }
    }

    /// The bucket named `name`, if any.
    pub fn bucket(&self, name: &str) -> Option<&Arc<BucketInfo>> {
        self.buckets.get(name)
    }

    /// Placement candidates for a residency list.
    pub fn candidates(&self, residency: &[String]) -> Vec<Candidate> {
        candidates_for(&self.backends, residency)
    }
}

fn candidates_for(backends: &[BackendInfo], residency: &[String]) -> Vec<Candidate> {
    backends
        .iter()
        .filter(|b| !b.draining && placement::is_allowed(&b.region, residency))
        .map(|b| Candidate::new(b.index, &b.id, b.weight))
        .collect()
}

fn bucket_info(
    b: &BucketRecord,
    backends: &[BackendInfo],
    states: &HashMap<u128, Arc<BucketState>>,
) -> BucketInfo {
    let id = b.id_u128();
    BucketInfo {
        name: b.name.clone(),
        tenant: b.tenant.clone(),
        id,
        id_hex: b.id.clone(),
        residency: b.residency.clone(),
        replicas: b.replicas,
        min_write_replicas: b.min_write_replicas.clamp(1, b.replicas.max(1)),
        created: b.created,
        physical: placement::physical_bucket_name(&b.tenant, &b.name),
        candidates: candidates_for(backends, &b.residency),
        draining: backends
            .iter()
            .filter(|x| x.draining && placement::is_allowed(&x.region, &b.residency))
            .map(|x| x.index)
            .collect(),
        state: states.get(&id).cloned().unwrap_or_default(),
    }
}

/// Where the current snapshot is published for all cores.
pub struct SnapshotHub {
    current: Mutex<Arc<Snapshot>>,
    generation: AtomicU64,
    states: Mutex<HashMap<u128, Arc<BucketState>>>,
}

impl SnapshotHub {
    pub fn new(contents: &MetaContents) -> SnapshotHub {
        let mut states = HashMap::new();
        let snap = Snapshot::build(contents, 1, &mut states);
        SnapshotHub {
            current: Mutex::new(Arc::new(snap)),
            generation: AtomicU64::new(1),
            states: Mutex::new(states),
        }
    }

    /// Loads the store and publishes a snapshot of it, serialized with every
    /// other publish: a load made under the lock sees every change committed
    /// before it, so an older view can never be published after a newer one.
    /// Blocking (LMDB, DNS).
    pub fn reload(&self, store: &super::MetaStore) -> Result<(), super::MetaError> {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        let contents = store.load()?;
        self.build_and_swap(&contents, &mut states);
        Ok(())
    }

    /// Builds and publishes a new snapshot from `contents`. Blocking (DNS).
    /// Servers use [`SnapshotHub::reload`]; this is for building from
    /// contents that are not in a store.
    pub fn publish(&self, contents: &MetaContents) {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        self.build_and_swap(contents, &mut states);
    }

    /// Builds the next snapshot (DNS included) holding only `states`, which
    /// serializes publishers; `current` is locked just for the swap, so a
    /// core fetching it never waits for a build.
    fn build_and_swap(&self, contents: &MetaContents, states: &mut HashMap<u128, Arc<BucketState>>) {
        let generation = self.generation.load(Ordering::Acquire) + 1;
        let snap = Arc::new(Snapshot::build(contents, generation, states));
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = snap;
        self.generation.store(generation, Ordering::Release);
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn current(&self) -> Arc<Snapshot> {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A core's cached view of the hub.
pub struct LocalSnapshot {
    cached: RefCell<Arc<Snapshot>>,
}

impl LocalSnapshot {
    pub fn new(hub: &SnapshotHub) -> LocalSnapshot {
        LocalSnapshot { cached: RefCell::new(hub.current()) }
    }

    /// The newest snapshot: one atomic load when nothing changed.
    pub fn get(&self, hub: &SnapshotHub) -> Arc<Snapshot> {
        let mut cached = self.cached.borrow_mut();
        if cached.generation != hub.generation() {
            *cached = hub.current();
        }
        cached.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::model::{BackendRecord, BucketRecord};

    fn contents() -> MetaContents {
        let backend = |id: &str, region: &str| BackendRecord {
            id: id.into(),
            endpoint: Endpoint::File { root: format!("/tmp/{id}").into() },
            region: region.into(),
            access_key: String::new(),
            secret_key: Secret::new(""),
            weight: 1.0,
            signing_region: "us-east-1".into(),
            draining: false,
        };
        MetaContents {
            backends: vec![backend("c", "r2"), backend("a", "r1"), backend("b", "r1")],
            tenants: vec![],
            keys: vec![],
            buckets: vec![BucketRecord {
                name: "logs".into(),
                tenant: "acme".into(),
                id: "0000000000000000000000000000002a".into(),
                residency: vec!["r1".into()],
                replicas: 2,
                min_write_replicas: 1,
                created: 0,
            }],
            ..MetaContents::default()
        }
    }

    #[test]
    fn backends_sorted_and_residency_applied() {
        let hub = SnapshotHub::new(&contents());
        let snap = hub.current();
        let ids: Vec<_> = snap.backends.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let bucket = snap.bucket("logs").unwrap();
        assert_eq!(bucket.id, 42);
        let idx: Vec<_> = bucket.candidates.iter().map(|c| c.index).collect();
        assert_eq!(idx, [0, 1]);
    }

    #[test]
    fn bucket_state_survives_publish_and_local_view_follows() {
        let hub = SnapshotHub::new(&contents());
        let local = LocalSnapshot::new(&hub);
        let first = local.get(&hub);
        first.bucket("logs").unwrap().state.inflight_writes.fetch_add(1, Ordering::SeqCst);
        hub.publish(&contents());
        let second = local.get(&hub);
        assert_eq!(second.generation, first.generation + 1);
        assert_eq!(second.bucket("logs").unwrap().state.inflight_writes.load(Ordering::SeqCst), 1);
    }
}
