//! What a template can see when it is evaluated.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

/// Variables (typed), the environment and the run id.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Shared with the plan until a capture adds a variable (copy on write).
    pub vars: Arc<HashMap<String, Value>>,
    /// The text a suite wrote for a variable whose YAML value is a number, boolean or null
    /// (`version: 1.10`, `zip: 007`): interpolated as written, while a whole-value use of the
    /// variable has its typed value.
    pub texts: Arc<HashMap<String, String>>,
    /// The environment `${env.X}` reads.
    pub env: Arc<HashMap<String, String>>,
    /// The run id, the value of `${gen.run_id}`.
    pub run_id: Arc<str>,
    /// Keep unset `${env.X}` as text instead of failing (used where nothing is sent).
    pub lenient_env: bool,
}

impl Scope {
    /// Set a variable (a capture), copying the shared map the first time.
    pub fn set(&mut self, name: &str, value: Value) {
        if self.texts.contains_key(name) {
            Arc::make_mut(&mut self.texts).remove(name);
        }
        Arc::make_mut(&mut self.vars).insert(name.to_string(), value);
    }
}
