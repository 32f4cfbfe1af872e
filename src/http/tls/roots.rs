//! The trust anchors of a run, read in tiers so a handshake reads no more of the system
//! store than its certificate needs.
//!
//! The set of trusted roots is the same as ever — `--cacert` plus the system store as
//! `rustls-native-certs` finds it (the bundle file and the certificate directories named by
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`, or found by `openssl-probe`; the platform's store on
//! macOS) — but a certificate is tried against growing prefixes of it:
//!
//! 1. the `--cacert` certificates alone (read at start-up);
//! 2. those, then the system bundle file (`/etc/ssl/certs/ca-certificates.crt`: one read);
//! 3. those, then every other file of the certificate directories (on Debian ~150 files and
//!    300 `stat`s: ~2.5 ms, as long as the rest of a one-check gate).
//!
//! Each source is read once. Each tier lists its anchors in the same order as the whole set
//! (`--cacert` first), so a chain a tier accepts, the whole set accepts at the same point of
//! its search; a rejection moves on to the next tier, and the last tier's answer — the whole
//! set's — is the one reported. So a rejected certificate costs the full read, as before, and
//! an accepted one only the tiers it needed.
//!
//! [`Tiers::preload`] (before the first request) reads what the first handshake is expected
//! to need: `--cacert`, or without it the bundle file. A chain that needs more — a root only in
//! the certificate directories, or a certificate every tier rejects — reads the rest inside its
//! handshake, once per run, on the run's one thread (~2.5 ms on Debian; counted in that
//! request's time). Reading the rest ahead on a thread of its own was measured and not kept:
//! it cost every one-check HTTPS gate ~4 ms of wall time (the read competes for the two cores
//! with the handshake and the server), for a chain that rarely needs it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{Error as TlsError, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// How many tiers there are: `--cacert`, then the bundle file, then everything.
const TIERS: usize = 3;

type Certs = Vec<CertificateDer<'static>>;

/// The verifiers of a run's tiers, each built at its first use.
#[derive(Debug)]
pub(super) struct Tiers {
    provider: Arc<CryptoProvider>,
    /// `--cacert` certificates (read at start-up).
    pub(super) extra: Certs,
    /// Where the system store is.
    system: SystemStore,
    /// The bundle file's certificates, read once.
    bundle: OnceLock<Certs>,
    /// The certificate directories' (and the platform store's) certificates, read once.
    rest: OnceLock<Certs>,
    /// Per tier: its verifier, `None` when the tier adds no anchor to the one before, or
    /// why it could not be built.
    built: [OnceLock<Result<Option<Arc<WebPkiServerVerifier>>, String>>; TIERS],
}

impl Tiers {
    pub(super) fn new(provider: Arc<CryptoProvider>, extra: Certs) -> Tiers {
        Tiers {
            provider,
            extra,
            system: SystemStore::locate(),
            bundle: OnceLock::new(),
            rest: OnceLock::new(),
            built: Default::default(),
        }
    }

    /// Verify with the first tier that accepts; the whole set's rejection otherwise.
    pub(super) fn verify<T>(
        &self,
        check: impl Fn(&WebPkiServerVerifier) -> Result<T, TlsError>,
    ) -> Result<T, TlsError> {
        let mut last = None;
        for tier in 0..TIERS {
            let Some(verifier) = self.tier(tier)? else {
                continue;
            };
            match check(verifier) {
                Ok(verified) => return Ok(verified),
                Err(e) => last = Some(e),
            }
        }
        // The last tier always exists (or failed to build, returned above).
        Err(last.unwrap_or_else(|| TlsError::General("no trusted roots".into())))
    }

    /// Read what the first handshake will need now — the `--cacert` tier if there is one (a
    /// missing system store is then no error), else the bundle file, else everything — so a
    /// missing trust store is a configuration error before anything is sent.
    pub(super) fn preload(&self) -> Result<(), TlsError> {
        for tier in 0..TIERS {
            if self.tier(tier)?.is_some() {
                return Ok(());
            }
        }
        Ok(())
    }

    fn bundle(&self) -> &Certs {
        self.bundle.get_or_init(|| match &self.system.file {
            Some(file) => rustls_native_certs::load_certs_from_paths(Some(file), None).certs,
            None => Vec::new(),
        })
    }

    fn rest(&self) -> &Certs {
        self.rest.get_or_init(|| self.system.read_rest())
    }

    fn tier(&self, tier: usize) -> Result<Option<&Arc<WebPkiServerVerifier>>, TlsError> {
        self.built[tier]
            .get_or_init(|| self.build(tier))
            .as_ref()
            .map(Option::as_ref)
            .map_err(|e| TlsError::General(e.clone()))
    }

    fn build(&self, tier: usize) -> Result<Option<Arc<WebPkiServerVerifier>>, String> {
        let adds = match tier {
            0 => !self.extra.is_empty(),
            1 => !self.bundle().is_empty(),
            // The whole set always exists: with no anchor at all it is the error.
            _ => true,
        };
        if !adds {
            return Ok(None);
        }
        // `--cacert` first, then the system's: the whole set's order, so a tier accepts what
        // the whole set accepts (webpki tries anchors in order, within a budget).
        let mut roots = RootCertStore::empty();
        for c in &self.extra {
            roots.add(c.clone()).map_err(|e| format!("--cacert: {e}"))?;
        }
        // Missing or unreadable system roots are not fatal: --cacert may be all that is
        // needed.
        if tier >= 1 {
            roots.add_parsable_certificates(self.bundle().iter().cloned());
        }
        if tier >= 2 {
            roots.add_parsable_certificates(self.rest().iter().cloned());
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
            .build()
            .map(Some)
            .map_err(|e| format!("cannot set up certificate verification: {e}"))
    }
}

/// Where the system's roots are, as `rustls_native_certs::load_native_certs` finds them.
#[derive(Debug)]
struct SystemStore {
    /// The bundle file: `SSL_CERT_FILE` when either variable is set, else the file
    /// `openssl-probe` finds.
    file: Option<PathBuf>,
    /// The certificate directories: `SSL_CERT_DIR` (a path list) when either variable is
    /// set, else those `openssl-probe` finds.
    dirs: Vec<PathBuf>,
    /// No bundle or directories to read: the platform's store (macOS, Windows).
    platform: bool,
}

impl SystemStore {
    fn locate() -> SystemStore {
        let file = std::env::var_os("SSL_CERT_FILE");
        let dirs = std::env::var_os("SSL_CERT_DIR");
        if file.is_some() || dirs.is_some() {
            return SystemStore {
                file: file.map(PathBuf::from),
                dirs: dirs
                    .map(|d| {
                        std::env::split_paths(&d)
                            .filter(|p| !p.as_os_str().is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                platform: false,
            };
        }
        Self::probed()
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    fn probed() -> SystemStore {
        let found = openssl_probe::probe();
        SystemStore {
            file: found.cert_file,
            dirs: found.cert_dir,
            platform: false,
        }
    }

    #[cfg(not(all(unix, not(target_os = "macos"))))]
    fn probed() -> SystemStore {
        SystemStore {
            file: None,
            dirs: Vec::new(),
            platform: true,
        }
    }

    /// Every regular file of the directories (in name order; a file reached twice, or the
    /// bundle file itself, once), or the platform's store.
    fn read_rest(&self) -> Certs {
        if self.platform {
            return rustls_native_certs::load_native_certs().certs;
        }
        let mut seen = HashSet::new();
        if let Some(id) = self.file.as_deref().and_then(file_id) {
            seen.insert(id);
        }
        let mut certs = Vec::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths {
                // Regular files only (a FIFO would block), each once (hash-named links).
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if !meta.is_file() || id_of(&meta).is_some_and(|id| !seen.insert(id)) {
                    continue;
                }
                if let Ok(found) = CertificateDer::pem_file_iter(&path) {
                    certs.extend(found.flatten());
                }
            }
        }
        certs
    }
}

/// A file's identity (device, inode), following links.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().as_ref().and_then(id_of)
}

#[cfg(unix)]
fn id_of(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn id_of(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}
