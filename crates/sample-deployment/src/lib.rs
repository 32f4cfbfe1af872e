//! An in-process fake deployment that plays smokegate's five verification
//! scenarios (A–E) on loopback, either healthy or with injected [`Fault`]s.
//!
//! Every listener binds `127.0.0.1:0`; nothing is ever sent off the machine.
//! [`SampleDeployment::vars`] gives the variables a suite run needs and
//! [`SampleDeployment::resolves`] the host names (scenarios B and D) that must
//! be resolved to `127.0.0.1`.

mod http;
mod jwt;
mod scenario_a;
mod scenario_b;
mod scenario_c;
mod scenario_d;
mod scenario_e;
pub mod tls;

use std::collections::HashSet;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The token the scenario A backend accepts.
pub const OWOKX_VERIFY_TOKEN: &str = "sample-verify-token-0b7e1c";
/// The scenario E API key with full permissions.
pub const DO_API_KEY: &str = "sample-deploy-key-5f2a9d";
/// The scenario E API key without the deploy permission.
pub const DO_READONLY_KEY: &str = "sample-readonly-key-77c1e0";

/// A fault injected into the sample deployment (the broken variants of SCENARIOS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    // Scenario A
    /// Dashboard answers /api/* and /auth/* with 502 (service binding unavailable).
    ABackendBindingBroken,
    /// Dashboard serves /api/* with its HTML UI instead of forwarding.
    ABackendServedByUi,
    /// /auth/* is not forwarded: the dashboard answers 404 HTML.
    AAuthNotForwarded,
    // Scenario B
    /// Service "billing" in "staging" answers /health with 503.
    BServiceDown,
    // Scenario C
    /// API /health reports a database error (503).
    CDatabaseError,
    /// Storefront GET / answers 500.
    CStorefrontDown,
    /// API /health reports environment "staging".
    CWrongEnvironment,
    /// Every 10th storefront GET / is delayed 800 ms (a slow tail: P95 above 500 ms).
    CStorefrontSlow,
    // Scenario D
    /// Register works; login answers 500 (JWT_SECRET is not configured).
    DLoginFails,
    /// GET /v1/events answers 200 with an empty list even without a token.
    DAuthBypass,
    /// The webhooks worker (both environments) is down: the edge answers 503.
    DWorkerDown,
    /// Every D worker answers /health with the legacy body {"status":"ok"}.
    DLegacyHealth,
    /// The edge routes the oauth hosts (both environments) to the api worker, which answers
    /// a healthy envelope of its own.
    DWorkerMisrouted,
    // Scenario E
    /// Deploy service /health answers 200 {"ok":true} without any API key.
    EHealthOpen,
    /// Deploy service answers 403 where 401 is due.
    EForbiddenInsteadOf401,
    /// Dispatcher routes Host gateway.do to the db worker.
    EDispatcherMisroute,
}

const ALL_FAULTS: &[Fault] = &[
    Fault::ABackendBindingBroken,
    Fault::ABackendServedByUi,
    Fault::AAuthNotForwarded,
    Fault::BServiceDown,
    Fault::CDatabaseError,
    Fault::CStorefrontDown,
    Fault::CWrongEnvironment,
    Fault::CStorefrontSlow,
    Fault::DLoginFails,
    Fault::DAuthBypass,
    Fault::DWorkerDown,
    Fault::DLegacyHealth,
    Fault::DWorkerMisrouted,
    Fault::EHealthOpen,
    Fault::EForbiddenInsteadOf401,
    Fault::EDispatcherMisroute,
];

impl Fault {
    /// Every fault, in declaration order.
    pub fn all() -> &'static [Fault] {
        ALL_FAULTS
    }

    /// The scenario the fault belongs to: 'A' to 'E'.
    pub fn scenario(self) -> char {
        match self {
            Fault::ABackendBindingBroken | Fault::ABackendServedByUi | Fault::AAuthNotForwarded => {
                'A'
            }
            Fault::BServiceDown => 'B',
            Fault::CDatabaseError
            | Fault::CStorefrontDown
            | Fault::CWrongEnvironment
            | Fault::CStorefrontSlow => 'C',
            Fault::DLoginFails
            | Fault::DAuthBypass
            | Fault::DWorkerDown
            | Fault::DLegacyHealth
            | Fault::DWorkerMisrouted => 'D',
            Fault::EHealthOpen | Fault::EForbiddenInsteadOf401 | Fault::EDispatcherMisroute => 'E',
        }
    }

    /// Kebab-case name, e.g. "a-backend-binding-broken".
    pub fn name(self) -> &'static str {
        match self {
            Fault::ABackendBindingBroken => "a-backend-binding-broken",
            Fault::ABackendServedByUi => "a-backend-served-by-ui",
            Fault::AAuthNotForwarded => "a-auth-not-forwarded",
            Fault::BServiceDown => "b-service-down",
            Fault::CDatabaseError => "c-database-error",
            Fault::CStorefrontDown => "c-storefront-down",
            Fault::CWrongEnvironment => "c-wrong-environment",
            Fault::CStorefrontSlow => "c-storefront-slow",
            Fault::DLoginFails => "d-login-fails",
            Fault::DAuthBypass => "d-auth-bypass",
            Fault::DWorkerDown => "d-worker-down",
            Fault::DLegacyHealth => "d-legacy-health",
            Fault::DWorkerMisrouted => "d-worker-misrouted",
            Fault::EHealthOpen => "e-health-open",
            Fault::EForbiddenInsteadOf401 => "e-forbidden-instead-of-401",
            Fault::EDispatcherMisroute => "e-dispatcher-misroute",
        }
    }

    /// What the fault breaks, in one line (for `smokegate demo --fault list`).
    pub fn description(self) -> &'static str {
        match self {
            Fault::ABackendBindingBroken => "the dashboard's backend binding is broken: API calls through it fail",
            Fault::ABackendServedByUi => "the backend route serves the UI's HTML instead of the API",
            Fault::AAuthNotForwarded => "the dashboard gateway drops the Authorization header on its way to the backend",
            Fault::BServiceDown => "service \"billing\" in staging answers /health with 503",
            Fault::CDatabaseError => "the API's /health reports a database error (503)",
            Fault::CStorefrontDown => "the storefront's GET / answers 500",
            Fault::CWrongEnvironment => "the API's /health reports environment \"staging\" in production",
            Fault::CStorefrontSlow => "every 10th storefront GET / is delayed 800 ms (P95 above the runbook's 500 ms)",
            Fault::DLoginFails => "register works; login answers 500 (JWT_SECRET is not configured)",
            Fault::DAuthBypass => "GET /v1/events answers 200 with an empty list even without a token",
            Fault::DWorkerDown => "the webhooks worker (both environments) is down: the edge answers 503",
            Fault::DLegacyHealth => "every D worker answers /health with the legacy body {\"status\":\"ok\"}",
            Fault::DWorkerMisrouted => "the edge routes the oauth hosts to the api worker, which answers a healthy envelope of its own",
            Fault::EHealthOpen => "the deploy service's /health answers 200 {\"ok\":true} without any API key",
            Fault::EForbiddenInsteadOf401 => "the deploy service answers 403 where 401 is due",
            Fault::EDispatcherMisroute => "the dispatcher routes Host gateway.do to the db worker",
        }
    }

    /// Parse a kebab-case name as returned by [`Fault::name`].
    pub fn from_name(name: &str) -> Option<Fault> {
        ALL_FAULTS.iter().copied().find(|f| f.name() == name)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of active faults, shared by the scenario servers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults(Arc<HashSet<Fault>>);

impl Faults {
    fn new(faults: &[Fault]) -> Self {
        Faults(Arc::new(faults.iter().copied().collect()))
    }

    pub(crate) fn has(&self, fault: Fault) -> bool {
        self.0.contains(&fault)
    }
}

/// A running sample deployment; servers stop on [`SampleDeployment::shutdown`] or drop.
#[derive(Debug)]
pub struct SampleDeployment {
    tasks: Vec<JoinHandle<()>>,
    vars: Vec<(String, String)>,
    resolves: Vec<String>,
    ca_pem: Option<String>,
}

impl SampleDeployment {
    /// Start every scenario's servers on loopback with the given faults.
    pub async fn start(faults: &[Fault]) -> std::io::Result<SampleDeployment> {
        let faults = Faults::new(faults);
        let mut dep = SampleDeployment {
            tasks: Vec::new(),
            vars: Vec::new(),
            resolves: Vec::new(),
            ca_pem: None,
        };
        // On error, `dep` is dropped and the already started servers are aborted.
        scenario_a::start(&faults, &mut dep).await?;
        scenario_b::start(&faults, &mut dep).await?;
        scenario_c::start(&faults, &mut dep).await?;
        scenario_d::start(&faults, &mut dep).await?;
        scenario_e::start(&faults, &mut dep).await?;
        Ok(dep)
    }

    /// TLS mode: like [`SampleDeployment::start`], but scenario D is served over HTTPS
    /// (`TMINUS_SCHEME=https`) with a certificate for its fake host names
    /// (`api.tminus.test`, `api-staging.tminus.test`, …) signed by a CA minted at start-up;
    /// [`SampleDeployment::ca_pem`] gives that CA for `--cacert`.
    pub async fn start_tls(faults: &[Fault]) -> std::io::Result<SampleDeployment> {
        let faults = Faults::new(faults);
        let ca = tls::TestCa::new("sample-deployment test CA").map_err(std::io::Error::other)?;
        let mut dep = SampleDeployment {
            tasks: Vec::new(),
            vars: Vec::new(),
            resolves: Vec::new(),
            ca_pem: Some(ca.pem()),
        };
        scenario_a::start(&faults, &mut dep).await?;
        scenario_b::start(&faults, &mut dep).await?;
        scenario_c::start(&faults, &mut dep).await?;
        scenario_d::start_tls(&faults, &mut dep, &ca).await?;
        scenario_e::start(&faults, &mut dep).await?;
        Ok(dep)
    }

    /// The CA certificate (PEM) that signed the TLS mode's certificates.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Host names scenario D serves (`api.tminus.test`, `api-staging.tminus.test`, …).
    pub fn scenario_d_hosts() -> Vec<String> {
        scenario_d::host_names()
    }

    /// Variables a suite run needs: (name, value) pairs.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.vars.clone()
    }

    /// Host names that must be resolved to 127.0.0.1 for scenarios B and D, in curl
    /// --resolve form "HOST:PORT:127.0.0.1".
    pub fn resolves(&self) -> Vec<String> {
        self.resolves.clone()
    }

    /// Stop all servers (also done on Drop via abort of the tasks).
    pub fn shutdown(self) {
        drop(self);
    }

    pub(crate) fn add_task(&mut self, task: JoinHandle<()>) {
        self.tasks.push(task);
    }

    pub(crate) fn add_var(&mut self, name: &str, value: impl Into<String>) {
        self.vars.push((name.to_string(), value.into()));
    }

    pub(crate) fn add_resolve(&mut self, host: &str, port: u16) {
        self.resolves.push(format!("{host}:{port}:127.0.0.1"));
    }
}

impl Drop for SampleDeployment {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests;
