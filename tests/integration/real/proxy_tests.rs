//! Issue 10 items 10 and 11: forward proxies the way curl takes them, through a real
//! tinyproxy — `--proxy`, `HTTP_PROXY` / `HTTPS_PROXY`, `NO_PROXY` / `--noproxy` — and CONNECT.

use sample_deployment::tls::{serve_tls_echo, server_config, TestCa, Validity};

use super::nginx::Nginx;
use super::tinyproxy::Tinyproxy;
use super::{args, run_suite, step};
use crate::common::{smokegate, write_suite};

fn health(port: u16) -> String {
    format!(
        "name: proxied\ncases:\n  - name: get\n    request: {{ url: \"http://127.0.0.1:{port}/health\" }}\n    expect: {{ status: 200 }}\n"
    )
}

async fn run_env(suite: &str, extra: &[&str], env: &[(&str, &str)]) -> crate::common::Run {
    let dir = tempfile::tempdir().unwrap();
    let path = write_suite(dir.path(), "p.yaml", suite);
    let mut a = args(&["run", &path, "--timeout", "5s"]);
    a.extend(args(extra));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    smokegate(&a, &env).await
}

#[tokio::test]
async fn http_goes_through_the_environment_proxy_unless_excluded() {
    let ngx = Nginx::start();
    let proxy = Tinyproxy::start();
    let suite = health(ngx.plain);
    let r = run_env(&suite, &["--verbose"], &[("HTTP_PROXY", &proxy.url)]).await;
    assert_eq!(r.code, 0, "{}\nproxy log:\n{}", r.all_output(), proxy.log());
    let req = &step(&r, "get")["request"];
    assert_eq!(req["proxy"], proxy.url, "{req}");
    assert_eq!(req["connected_to"], proxy.url.trim_start_matches("http://"));
    assert!(
        r.stdout.contains(&format!("through proxy {}", proxy.url)),
        "{}",
        r.stdout
    );
    assert!(
        proxy
            .log()
            .contains(&format!("127.0.0.1:{}/health", ngx.plain)),
        "{}",
        proxy.log()
    );
    // NO_PROXY, then --noproxy (which replaces it), send it directly.
    for (extra, no_proxy) in [
        (vec![], "localhost,127.0.0.0/8"),
        (vec!["--noproxy", "127.0.0.1"], ""),
    ] {
        let r = run_env(
            &suite,
            &extra,
            &[("http_proxy", &proxy.url), ("NO_PROXY", no_proxy)],
        )
        .await;
        assert_eq!(r.code, 0, "{}", r.all_output());
        let req = &step(&r, "get")["request"];
        assert!(req.get("proxy").is_none(), "{req}");
        assert_eq!(req["connected_to"], format!("127.0.0.1:{}", ngx.plain));
    }
    // --proxy wins over the environment; a dead proxy in the environment is then unused.
    let r = run_env(
        &suite,
        &["--proxy", &proxy.url],
        &[("HTTP_PROXY", "http://127.0.0.1:9")],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.all_output());
    // A proxy that refuses is an error naming the proxy, never a pass.
    let r = run_env(&suite, &["--proxy", "127.0.0.1:9"], &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert_eq!(step(&r, "get")["request"]["proxy"], "http://127.0.0.1:9");
}

/// HTTPS tunnels through the proxy with CONNECT; TLS is end to end, verified against the
/// URL's host. (tinyproxy resolves the host itself: `localhost`, loopback.)
#[tokio::test]
async fn https_tunnels_through_the_proxy_and_is_verified_end_to_end() {
    let proxy = Tinyproxy::start();
    let ca = TestCa::new("proxy test CA").unwrap();
    let leaf = ca.issue(&["localhost"], Validity::Days(30)).unwrap();
    let config = server_config(&leaf, &[], None).unwrap();
    let (addr, _t) = serve_tls_echo(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cacert = dir.path().join("ca.pem");
    std::fs::write(&cacert, ca.pem()).unwrap();
    let suite = format!(
        "name: tunnel\ncases:\n  - name: get\n    request: {{ url: \"https://localhost:{}/x\" }}\n    expect: {{ status: 200, jsonpath: [{{ path: $.authority, equals: \"localhost:{}\" }}] }}\n",
        addr.port(),
        addr.port()
    );
    let r = run_env(
        &suite,
        &["--cacert", &cacert.display().to_string()],
        &[("HTTPS_PROXY", &proxy.url)],
    )
    .await;
    assert_eq!(r.code, 0, "{}\nproxy log:\n{}", r.all_output(), proxy.log());
    assert_eq!(step(&r, "get")["request"]["proxy"], proxy.url);
    assert!(
        proxy.log().contains("): CONNECT localhost:"),
        "{}",
        proxy.log()
    );
    // Without the CA the tunnel still carries a verified handshake: it fails.
    let r = run_env(&suite, &[], &[("HTTPS_PROXY", &proxy.url)]).await;
    assert_eq!(
        step(&r, "get")["error"]["kind"],
        "tls",
        "{}",
        r.all_output()
    );
}

/// A `Host` override on a request that goes direct (NO_PROXY) stays direct: the alias it is
/// sent under is never judged by the proxy rules (it once was, and tunnelled to the wrong
/// host through the proxy).
#[tokio::test]
async fn a_host_override_that_goes_direct_never_reaches_the_proxy() {
    let ngx = Nginx::start();
    let proxy = Tinyproxy::start();
    let p = ngx.h2;
    let suite = format!(
        "name: direct\ncases:\n  - name: get\n    request: {{ url: \"https://gw.tminus.test:{p}/health\", headers: {{ Host: api.tminus.test }} }}\n    expect: {{ status: 200, jsonpath: [{{ path: $.data.worker, equals: tminus-api }}] }}\n"
    );
    let resolve = format!("gw.tminus.test:{p}:127.0.0.1");
    let r = run_env(
        &suite,
        &[
            "--cacert",
            &super::pki::pki().cacert(),
            "--resolve",
            &resolve,
        ],
        &[("HTTPS_PROXY", &proxy.url), ("NO_PROXY", "gw.tminus.test")],
    )
    .await;
    assert_eq!(r.code, 0, "{}\nproxy log:\n{}", r.all_output(), proxy.log());
    assert!(step(&r, "get")["request"].get("proxy").is_none());
    assert!(!proxy.log().contains("): CONNECT "), "{}", proxy.log());
}

/// Item 11: a step cannot send CONNECT (it would name only host:port, not the URL the report
/// shows): it is refused at validation, with its position, and when a template renders it.
#[tokio::test]
async fn connect_is_refused_with_a_reason() {
    let r = run_suite(
        "name: c\ncases:\n  - name: tunnel\n    request: { method: CONNECT, url: \"http://127.0.0.1:9/path\" }\n",
        &[],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.all_output());
    assert!(
        r.stderr.contains("real.yaml:4:") && r.stderr.contains("CONNECT opens a tunnel"),
        "{}",
        r.stderr
    );
    let r = run_suite(
        "name: c\nvars: { m: CONNECT }\ncases:\n  - name: tunnel\n    request: { method: \"${m}\", url: \"http://127.0.0.1:9/path\" }\n",
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    assert!(r.case("tunnel")["message"]
        .as_str()
        .unwrap()
        .contains("CONNECT opens a tunnel"));
}

/// Review fixes: a proxy given without a port uses curl's default (1080), never the
/// requested URL's port; and TLS expectations through a proxy are an error that says why
/// (a second handshake would reach the proxy), not a hang or a verdict on the proxy.
#[tokio::test]
async fn proxy_defaults_and_tls_through_a_proxy_are_honest() {
    let ngx = Nginx::start();
    let r = run_env(&health(ngx.plain), &["--proxy", "127.0.0.1"], &[]).await;
    assert_eq!(r.code, 1, "{}", r.all_output());
    let req = &step(&r, "get")["request"];
    assert_eq!(req["proxy"], "http://127.0.0.1:1080", "{req}");
    assert_ne!(
        req["connected_to"],
        format!("127.0.0.1:{}", ngx.plain),
        "never direct"
    );
    let proxy = Tinyproxy::start();
    let p = ngx.h2;
    let suite = format!(
        "name: t\ncases:\n  - name: get\n    request: {{ url: \"https://localhost:{p}/health\" }}\n    expect: {{ tls: {{ min_days_valid: 1 }} }}\n"
    );
    let started = std::time::Instant::now();
    let r = run_env(&suite, &["--insecure"], &[("HTTPS_PROXY", &proxy.url)]).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let out = r.all_output();
    assert!(
        out.contains("cannot observe the server's TLS through it"),
        "{out}"
    );
}
