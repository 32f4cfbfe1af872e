//! The trust anchors of a run, read in tiers so a handshake reads no more of the system
//! store than its certificate needs.
//!
//! The set of trusted roots is the same as ever — `--cacert` plus everything
//! `rustls-native-certs` finds (the bundle file and the certificate directories named by
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`, or found by `openssl-probe`) — but a certificate is tried
//! against growing subsets of it:
//!
//! 1. the `--cacert` certificates alone (already read at start-up);
//! 2. those plus the system bundle file (`/etc/ssl/certs/ca-certificates.crt`: one read);
//! 3. everything (the bundle again, and every file of the certificate directories: on Debian
//!    ~150 files, 300 `stat`s and ~2.5 ms of a process that sends one request).
//!
//! A chain accepted by a subset is accepted by the whole set (more anchors only add paths),
//! so the first tier that accepts decides; a rejection moves on to the next tier, and the
//! last tier's answer — the whole set's — is the one reported. A rejected certificate
//! therefore costs the full read, exactly as before, and an accepted one costs only the
//! tiers it needed. This is what OpenSSL does with a certificate directory (it opens the
//! file named by the issuer's hash only when a chain needs it).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{Error as TlsError, RootCertStore};
use rustls_pki_types::CertificateDer;

/// How many tiers there are: `--cacert`, the bundle file, everything.
const TIERS: usize = 3;

/// The verifiers of a run's tiers, each built at its first use.
#[derive(Debug)]
pub(super) struct Tiers {
    provider: Arc<CryptoProvider>,
    /// `--cacert` certificates (read at start-up).
    pub(super) extra: Vec<CertificateDer<'static>>,
    /// The system bundle file, when the system store has one (tier 2).
    bundle: Option<PathBuf>,
    /// Per tier: its verifier, `None` when the tier adds no anchor to the one before, or
    /// why it could not be built.
    built: [OnceLock<Result<Option<Arc<WebPkiServerVerifier>>, String>>; TIERS],
}

impl Tiers {
    pub(super) fn new(provider: Arc<CryptoProvider>, extra: Vec<CertificateDer<'static>>) -> Tiers {
        Tiers {
            provider,
            extra,
            bundle: system_bundle(),
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

    /// Read what the first handshake will need now (so a missing trust store is a
    /// configuration error before anything is sent, and no handshake waits for the disk):
    /// the `--cacert` tier if there is one (a missing system store is then no error), else the
    /// bundle file, else everything.
    pub(super) fn preload(&self) -> Result<(), TlsError> {
        for tier in 0..TIERS {
            if self.tier(tier)?.is_some() {
                return Ok(());
            }
        }
        Ok(())
    }

    fn tier(&self, tier: usize) -> Result<Option<&Arc<WebPkiServerVerifier>>, TlsError> {
        self.built[tier]
            .get_or_init(|| self.build(tier))
            .as_ref()
            .map(Option::as_ref)
            .map_err(|e| TlsError::General(e.clone()))
    }

    fn build(&self, tier: usize) -> Result<Option<Arc<WebPkiServerVerifier>>, String> {
        let system = match tier {
            0 if self.extra.is_empty() => return Ok(None),
            0 => Vec::new(),
            1 => match &self.bundle {
                Some(file) => rustls_native_certs::load_certs_from_paths(Some(file), None).certs,
                None => return Ok(None),
            },
            // Missing or unreadable system roots are not fatal: --cacert may be all that is
            // needed.
            _ => rustls_native_certs::load_native_certs().certs,
        };
        if tier == 1 && system.is_empty() {
            return Ok(None);
        }
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(system);
        for c in &self.extra {
            roots.add(c.clone()).map_err(|e| format!("--cacert: {e}"))?;
        }
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
            .build()
            .map(Some)
            .map_err(|e| format!("cannot set up certificate verification: {e}"))
    }
}

/// The bundle file `rustls_native_certs::load_native_certs` reads (besides directories):
/// `SSL_CERT_FILE` when either variable is set (then only they are read), else the file
/// `openssl-probe` finds. Elsewhere (macOS, Windows) the platform store is read whole.
fn system_bundle() -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        return Some(PathBuf::from(file));
    }
    if std::env::var_os("SSL_CERT_DIR").is_some() {
        return None;
    }
    probed_bundle()
}

#[cfg(all(unix, not(target_os = "macos")))]
fn probed_bundle() -> Option<PathBuf> {
    openssl_probe::probe().cert_file
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn probed_bundle() -> Option<PathBuf> {
    None
}
