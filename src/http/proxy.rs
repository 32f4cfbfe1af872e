//! Forward proxies, as curl takes them: `--proxy URL` for every scheme, else the environment
//! (`http_proxy`, `https_proxy`, `all_proxy`, lower case first, then upper case), minus the
//! hosts of `--noproxy LIST` (else `no_proxy` / `NO_PROXY`). Plain-http requests are sent to
//! the proxy in absolute form; https requests tunnel through it with `CONNECT host:port`
//! (TLS is still end to end and verified against the URL's host).
//!
//! The run decides per URL whether a proxy applies ([`ProxyRules::for_url`]), so reports can
//! say which proxy a request went through. A proxy URL's credentials (`user:pass@`) are
//! sent as `Proxy-Authorization` and never shown.

use std::net::IpAddr;

use reqwest::Url;

use super::error::RuleError;

/// The proxy decisions of a run.
#[derive(Debug, Clone, Default)]
pub struct ProxyRules {
    http: Option<Url>,
    https: Option<Url>,
    bypass: Vec<Bypass>,
}

/// One `--noproxy` / `NO_PROXY` entry.
#[derive(Debug, Clone, PartialEq)]
enum Bypass {
    /// `*`: no proxy at all.
    All,
    /// A host name and its subdomains (`example.com`, `.example.com`).
    Domain(String),
    /// An address, or a range in CIDR notation (`10.0.0.0/8`).
    Net(IpAddr, u8),
}

impl ProxyRules {
    /// The rules of a run: `flag` (`--proxy`) replaces the environment's proxies, `noproxy`
    /// (`--noproxy`) the environment's exclusions. `env` reads a variable.
    pub fn new(
        flag: Option<&str>,
        noproxy: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, RuleError> {
        let var = |name: &str| {
            env(name)
                .or_else(|| env(&name.to_ascii_uppercase()))
                .filter(|v| !v.trim().is_empty())
        };
        let (http, https) = match flag.filter(|f| !f.trim().is_empty()) {
            Some(f) => {
                let u = parse_proxy(f, "--proxy")?;
                (Some(u.clone()), Some(u))
            }
            None => {
                let all = var("all_proxy")
                    .map(|v| parse_proxy(&v, "ALL_PROXY"))
                    .transpose()?;
                let http = var("http_proxy")
                    .map(|v| parse_proxy(&v, "HTTP_PROXY"))
                    .transpose()?;
                let https = var("https_proxy")
                    .map(|v| parse_proxy(&v, "HTTPS_PROXY"))
                    .transpose()?;
                (http.or(all.clone()), https.or(all))
            }
        };
        let list = match noproxy {
            Some(l) => Some(l.to_string()),
            None => var("no_proxy"),
        };
        let bypass = list.as_deref().map(parse_bypass).unwrap_or_default();
        Ok(ProxyRules {
            http,
            https,
            bypass,
        })
    }

    /// The proxies' hosts and ports (names are resolved with the proxy's port).
    pub fn endpoints(&self) -> Vec<(String, u16)> {
        let mut out: Vec<(String, u16)> = [&self.http, &self.https]
            .into_iter()
            .flatten()
            .filter_map(|u| {
                Some((
                    u.host_str()?.to_ascii_lowercase(),
                    u.port_or_known_default()?,
                ))
            })
            .collect();
        out.dedup();
        out
    }

    /// True when no request can go through a proxy.
    pub fn is_empty(&self) -> bool {
        (self.http.is_none() && self.https.is_none()) || self.bypass.contains(&Bypass::All)
    }

    /// The proxy a request for `url` goes through, if any.
    pub fn for_url(&self, url: &Url) -> Option<&Url> {
        let proxy = match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => None,
        }?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        (!self.bypass.iter().any(|b| b.matches(&host))).then_some(proxy)
    }
}

/// A proxy URL as reports show it: without credentials.
pub fn shown(proxy: &Url) -> String {
    let mut u = proxy.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.as_str().trim_end_matches('/').to_string()
}

fn parse_proxy(value: &str, from: &'static str) -> Result<Url, RuleError> {
    let value = value.trim();
    // curl takes `host:port` as an http proxy.
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let bad = |reason: &str| RuleError::Proxy {
        from,
        reason: reason.to_string(),
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| bad(&format!("not a URL ({e})")))?;
    match url.scheme() {
        "http" | "https" => {}
        s => {
            return Err(bad(&format!(
                "the {s}:// scheme is not supported (http, https)"
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    // curl's default proxy ports: 1080 for an http:// proxy, 443 for https://. The port is
    // made explicit, or the connection would go to the requested URL's port.
    if url.port().is_none() {
        let port = if url.scheme() == "https" { 443 } else { 1080 };
        let _ = url.set_port(Some(port));
    }
    Ok(url)
}

fn parse_bypass(list: &str) -> Vec<Bypass> {
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if e == "*" {
                return Bypass::All;
            }
            let bare = e.trim_start_matches('[').trim_end_matches(']');
            if let Some((ip, bits)) = bare.split_once('/') {
                if let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>()) {
                    return Bypass::Net(ip, bits);
                }
            }
            if let Ok(ip) = bare.parse::<IpAddr>() {
                return Bypass::Net(ip, if ip.is_ipv4() { 32 } else { 128 });
            }
            Bypass::Domain(
                e.trim_start_matches("*.")
                    .trim_start_matches('.')
                    .to_ascii_lowercase(),
            )
        })
        .collect()
}

impl Bypass {
    fn matches(&self, host: &str) -> bool {
        match self {
            Bypass::All => true,
            Bypass::Domain(d) => {
                host == d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|p| p.ends_with('.'))
            }
            Bypass::Net(net, bits) => match host.parse::<IpAddr>() {
                Ok(ip) => in_net(ip, *net, *bits),
                Err(_) => false,
            },
        }
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = u32::from(bits.min(32));
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = u32::from(bits.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_environment_is_read_in_either_case_and_the_flag_wins() {
        let r = ProxyRules::new(
            None,
            None,
            env(&[
                ("HTTP_PROXY", "proxy.test:3128"),
                ("https_proxy", "http://tls.test:8080"),
            ]),
        )
        .unwrap();
        assert_eq!(
            r.for_url(&url("http://a.test/")).unwrap().as_str(),
            "http://proxy.test:3128/"
        );
        assert_eq!(
            r.for_url(&url("https://a.test/")).unwrap().as_str(),
            "http://tls.test:8080/"
        );
        let r = ProxyRules::new(
            Some("http://flag.test:1"),
            None,
            env(&[("HTTP_PROXY", "x:1")]),
        )
        .unwrap();
        assert_eq!(
            r.for_url(&url("http://a.test/")).unwrap().host_str(),
            Some("flag.test")
        );
        let r = ProxyRules::new(None, None, env(&[("ALL_PROXY", "all.test:9")])).unwrap();
        assert!(r.for_url(&url("https://a.test/")).is_some());
    }

    #[test]
    fn noproxy_matches_domains_addresses_and_ranges() {
        let r = ProxyRules::new(
            Some("p.test:1"),
            None,
            env(&[("NO_PROXY", "example.com, .internal.test,10.0.0.0/8,::1")]),
        )
        .unwrap();
        for direct in [
            "http://example.com/",
            "http://api.example.com/",
            "http://db.internal.test/",
            "http://10.1.2.3/",
            "http://[::1]:8080/",
        ] {
            assert!(r.for_url(&url(direct)).is_none(), "{direct}");
        }
        for proxied in [
            "http://notexample.com/",
            "http://11.0.0.1/",
            "http://internal.test.evil/",
        ] {
            assert!(r.for_url(&url(proxied)).is_some(), "{proxied}");
        }
        let r = ProxyRules::new(Some("p.test:1"), Some("*"), env(&[])).unwrap();
        assert!(r.is_empty());
        // --noproxy replaces NO_PROXY.
        let r = ProxyRules::new(
            Some("p.test:1"),
            Some("other.test"),
            env(&[("NO_PROXY", "*")]),
        )
        .unwrap();
        assert!(r.for_url(&url("http://a.test/")).is_some());
    }

    #[test]
    fn bad_proxies_are_named_and_credentials_are_never_shown() {
        let e = ProxyRules::new(Some("socks5://p.test:1080"), None, env(&[])).unwrap_err();
        assert!(
            e.to_string().contains("--proxy") && e.to_string().contains("socks5"),
            "{e}"
        );
        let u = parse_proxy("http://user:s3cret@p.test:3128", "--proxy").unwrap();
        assert_eq!(shown(&u), "http://p.test:3128");
        let u = parse_proxy("http://localhost", "--proxy").unwrap();
        assert_eq!(u.port(), Some(1080), "curl's default port, made explicit");
    }
}
