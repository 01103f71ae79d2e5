//! Kustomize rendered offline: the objects breakout renders agree with `kubectl
//! kustomize` (the oracle, where kubectl is installed), findings point at the line that
//! sets the value (a patch, a kustomization entry) or at the object in the file that
//! defines it, files a kustomization consumes are not judged again, and what is not
//! rendered (remote resources, Helm charts) is listed with the reason.

use breakout::render::{kustomize, tree};
use breakout::{scan, Report, ScanOptions};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::{write_tree as write, ROOT};

fn run(paths: &[PathBuf]) -> Report {
    scan(&ScanOptions {
        paths: paths.to_vec(),
        policies: breakout::engine::builtin(),
        ..Default::default()
    })
    .unwrap()
}

/// Objects as the oracle compares them: keys sorted (JSON objects), Secret values
/// blanked (breakout never keeps them), sorted by kind, namespace and name.
fn normalized(mut objects: Vec<Value>) -> Vec<Value> {
    for o in &mut objects {
        if o["kind"] == "Secret" {
            for key in ["data", "stringData"] {
                if let Some(Value::Object(m)) = o.get_mut(key) {
                    m.values_mut()
                        .for_each(|v| *v = Value::String(String::new()));
                }
            }
        }
    }
    let id = |o: &Value| {
        (
            o["kind"].as_str().unwrap_or_default().to_string(),
            o["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    };
    objects.sort_by_key(id);
    objects
}

/// What breakout renders for the root kustomization in `dir`.
fn rendered(dir: &Path) -> Vec<Value> {
    let file = kustomize::FILE_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .expect("a kustomization file");
    let out = kustomize::render_all(&[kustomize::Found {
        file,
        scan_root: dir
            .canonicalize()
            .unwrap()
            .ancestors()
            .last()
            .unwrap()
            .to_path_buf(),
    }]);
    assert!(out.errors.is_empty(), "{:#?}", out.errors);
    assert_eq!(out.roots.len(), 1);
    normalized(out.roots[0].objects.iter().map(tree::to_json).collect())
}

/// What `kubectl kustomize` prints for `dir`, or `None` (with the reason printed) when
/// kubectl is not installed.
fn kubectl(dir: &Path) -> Option<Vec<Value>> {
    let out = match std::process::Command::new("kubectl")
        .args(["kustomize"])
        .arg(dir)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipped: kubectl is not installed here ({e}); the oracle needs it");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let docs = breakout::parse::yaml::parse(&text).unwrap();
    Some(normalized(
        docs.iter()
            .filter(|d| d.is_map())
            .map(tree::to_json)
            .collect(),
    ))
}

/// The oracle: breakout's objects are kubectl's, whatever the positions and key order.
#[track_caller]
fn agrees_with_kubectl(dir: &Path) {
    let ours = rendered(dir);
    let Some(theirs) = kubectl(dir) else { return };
    if ours != theirs {
        let show = |v: &[Value]| serde_json::to_string_pretty(v).unwrap();
        panic!(
            "{} renders differently\n--- breakout\n{}\n--- kubectl kustomize\n{}",
            dir.display(),
            show(&ours),
            show(&theirs)
        );
    }
}

#[test]
fn the_samples_render_as_kubectl_does() {
    for overlay in ["vulnerable", "hardened", "base"] {
        agrees_with_kubectl(&Path::new(ROOT).join("samples/kustomize").join(overlay));
    }
}

const FIXTURES: &str = "tests/fixtures/kustomize";

#[test]
fn the_fixtures_render_as_kubectl_does() {
    // Resources of resources, a List, components, generators (hash names, a Secret),
    // every patch kind, namespace, suffix, labels, annotations, replicas, images.
    for dir in ["base", "overlays/staging"] {
        agrees_with_kubectl(&Path::new(ROOT).join(FIXTURES).join(dir));
    }
}

/// A public repository's overlays (Kustomize's own LDAP example, Apache-2.0, see
/// `tests/fixtures/kustomize-ldap/NOTICE.md`): generators from files and env files,
/// strategic merge patches, name prefixes.
#[test]
fn a_public_repositorys_overlays_render_as_kubectl_does() {
    for dir in ["base", "overlays/staging", "overlays/production"] {
        agrees_with_kubectl(
            &Path::new(ROOT)
                .join("tests/fixtures/kustomize-ldap")
                .join(dir),
        );
    }
}

/// A finding as tests compare it: rule, resource, file (relative to the fixtures) and
/// line.
fn hits(report: &Report) -> Vec<(String, String, String, u32)> {
    let mut v: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let file = f.location.file.replace('\\', "/");
            let file = file
                .split_once("kustomize/")
                .map_or(file.clone(), |(_, r)| r.to_string());
            (f.rule_id.clone(), f.resource.clone(), file, f.location.line)
        })
        .collect();
    v.sort();
    v
}

fn line_of(file: &str, needle: &str) -> u32 {
    let text = std::fs::read_to_string(Path::new(ROOT).join(FIXTURES).join(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in {file}")) as u32
        + 1
}

/// Each finding points at the line that sets the value: the patch (strategic merge,
/// JSON 6902 in a file, JSON 6902 inline in a component or a kustomization) or, for a
/// value the overlay leaves alone, the base; the resource is named as rendered.
#[test]
fn findings_point_at_the_line_that_sets_the_value() {
    let report = run(&[Path::new(ROOT).join(FIXTURES).join("overlays/staging")]);
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let got = hits(&report);
    let api = "Deployment staging/api-stg";
    let want = vec![
        // The component's inline JSON patch adds a container with SYS_PTRACE (it
        // inherits the pod's runAsNonRoot): located in the component's kustomization.
        (
            "BRK401",
            api,
            "components/debug-tools/kustomization.yaml",
            line_of(
                "components/debug-tools/kustomization.yaml",
                "securityContext:",
            ),
        ),
        (
            "BRK602",
            api,
            "components/debug-tools/kustomization.yaml",
            line_of("components/debug-tools/kustomization.yaml", "add: ["),
        ),
        (
            "BRK604",
            api,
            "components/debug-tools/kustomization.yaml",
            line_of(
                "components/debug-tools/kustomization.yaml",
                "securityContext:",
            ),
        ),
        // The strategic merge patch mounts the Docker socket.
        (
            "BRK201",
            api,
            "overlays/staging/host-docker.yaml",
            line_of(
                "overlays/staging/host-docker.yaml",
                "path: /var/run/docker.sock",
            ),
        ),
        // The JSON patch file makes the api container privileged.
        (
            "BRK601",
            api,
            "overlays/staging/privileged.json",
            line_of("overlays/staging/privileged.json", "privileged"),
        ),
        // The inline JSON patch in the overlay's kustomization runs the CronJob as root.
        (
            "BRK301",
            "CronJob staging/report-stg",
            "overlays/staging/kustomization.yaml",
            line_of("overlays/staging/kustomization.yaml", "value: 0"),
        ),
    ];
    let mut want: Vec<(String, String, String, u32)> = want
        .into_iter()
        .map(|(r, res, f, l)| (r.to_string(), res.to_string(), f.to_string(), l))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Every finding has the kustomization as a related location.
    for f in &report.findings {
        assert!(
            f.related_locations
                .iter()
                .any(|r| r.file.ends_with("overlays/staging/kustomization.yaml")
                    && r.message.contains("rendered by the kustomization in")),
            "{f:#?}"
        );
    }
    // A value set in another file than the object's: the object is a related location.
    let f = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BRK601")
        .unwrap();
    assert!(
        f.related_locations
            .iter()
            .any(|r| r.file.ends_with("base/deployment.yaml") && r.message.contains(api)),
        "{:#?}",
        f.related_locations
    );
}

/// The rendered objects are what Kubernetes gets: renamed ServiceAccounts in pod specs,
/// labels on pods and in NetworkPolicy selectors (so BRK503 sees the policy), images,
/// and a Secret without its values.
#[test]
fn rendered_facts_are_what_kubernetes_gets() {
    let report = run(&[Path::new(ROOT).join(FIXTURES).join("overlays/staging")]);
    let api = report
        .facts
        .workloads
        .iter()
        .find(|w| w.resource == "Deployment staging/api-stg")
        .unwrap();
    assert_eq!(api.service_account.as_deref(), Some("api-stg"));
    assert_eq!(api.labels.get("app").map(String::as_str), Some("shop"));
    assert_eq!(api.labels.get("team").map(String::as_str), Some("payments"));
    assert_eq!(
        api.imds_egress,
        breakout::facts::Tri::No,
        "{}",
        api.imds_egress_reason
    );
    let sa = &report.facts.service_accounts[0];
    assert_eq!(sa.resource, "ServiceAccount staging/api-stg");
    let images: Vec<_> = report
        .facts
        .containers
        .iter()
        .filter(|c| c.resource == api.resource)
        .map(|c| (c.name.as_str(), c.image.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        images,
        [
            ("api", "registry.example.com/api:1.1.0"),
            ("debugger", "ghcr.io/example/debug:latest")
        ],
        "the metrics container is deleted by the patch"
    );
    // Secret values never reach the report.
    let json = breakout::report::json::render(&report);
    let facts = serde_json::to_string(&report.facts).unwrap();
    for secret in ["s3cr3t-hunter2", "tok-0123456789", "dG9rLTAxMjM0NTY3ODk"] {
        assert!(
            !json.contains(secret) && !facts.contains(secret),
            "{secret}"
        );
    }
}

/// Scanning the whole folder judges each root kustomization once, and no file a
/// kustomization consumes (base resources, patches, generator sources) on its own:
/// the patches, which are not whole objects, would give false findings.
#[test]
fn consumed_files_are_not_judged_again() {
    let report = run(&[Path::new(ROOT).join(FIXTURES)]);
    let resources: std::collections::BTreeSet<&str> = report
        .findings
        .iter()
        .map(|f| f.resource.as_str())
        .collect();
    assert_eq!(
        resources.into_iter().collect::<Vec<_>>(),
        ["CronJob staging/report-stg", "Deployment staging/api-stg"],
        "{:#?}",
        hits(&report)
    );
    assert!(report.skipped.is_empty(), "{:#?}", report.skipped);
    // Every file under the fixtures is read once, through a kustomization.
    assert_eq!(report.stats.files_scanned, 12, "{:#?}", report.stats);
    // The overlay with a remote base is rendered from what is local.
    assert!(report.modules_not_scanned.iter().any(|m| m
        .contains("resource https://github.com/example/platform//deploy/base?ref=v1.2.0")
        && m.contains("remote; not fetched")));
    assert!(report
        .modules_not_scanned
        .iter()
        .any(|m| m.contains("helmCharts redis") && m.contains("not run")));
    // Its patch targets the remote resource: not an error, since that is not rendered.
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
}

/// A patch that matches nothing, in a kustomization that is all local, is an error at
/// the patch (Kustomize refuses it); a resource that is missing is one at its entry.
#[test]
fn broken_kustomizations_are_located_errors() {
    let dir = write(&[
        ("k/kustomization.yaml", "resources:\n  - pod.yaml\n  - missing.yaml\npatches:\n  - path: patch.yaml\n"),
        ("k/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x}]\n"),
        ("k/patch.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: other}\nspec:\n  hostNetwork: true\n"),
    ]);
    let report = run(&[dir.path().to_path_buf()]);
    let errors: Vec<(String, Option<u32>)> = report
        .errors
        .iter()
        .map(|e| (e.file.rsplit('/').next().unwrap().to_string(), e.line))
        .collect();
    assert_eq!(
        errors,
        [
            ("kustomization.yaml".to_string(), Some(3)),
            ("patch.yaml".to_string(), Some(1))
        ],
        "{:#?}",
        report.errors
    );
    // The pod is still judged.
    assert!(report.findings.iter().any(|f| f.resource == "Pod p"));
}

/// A `patches` entry written as a bare file name (seen in argocd-example-apps):
/// Kustomize refuses the kustomization, so it is a located error; the file is still
/// the patch its author meant, never judged as a workload of its own.
#[test]
fn a_patch_named_without_path_is_an_error_and_still_a_patch() {
    let dir = write(&[
        ("k/kustomization.yaml", "resources:\n  - deploy.yaml\npatches:\n  - patch.yaml\n"),
        ("k/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: web:1}]\n"),
        ("k/patch.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      hostPID: true\n"),
    ]);
    let report = run(&[dir.path().to_path_buf()]);
    assert_eq!(report.errors.len(), 1, "{:#?}", report.errors);
    let e = &report.errors[0];
    assert!(
        e.file.ends_with("kustomization.yaml") && e.line == Some(4),
        "{e:?}"
    );
    assert!(e.message.contains("write `- path: patch.yaml`"), "{e:?}");
    // The patch applied: hostPID, from patch.yaml's line, on the rendered Deployment;
    // nothing else points into the patch.
    let host_pid = report
        .findings
        .iter()
        .find(|f| f.rule_id == "BRK603")
        .expect("hostPID is judged on the rendered Deployment");
    assert!(
        host_pid.location.file.ends_with("k/patch.yaml") && host_pid.location.line == 7,
        "{host_pid:?}"
    );
    assert_eq!(host_pid.resource, "Deployment web");
    for f in report.findings.iter().filter(|f| f.rule_id != "BRK603") {
        assert!(f.location.file.ends_with("k/deploy.yaml"), "{f:?}");
    }
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.rule_id == "BRK302")
            .count(),
        1,
        "one Deployment, judged once"
    );
}

/// Built-in transformers configured in files (`transformers:`, `apiVersion: builtin`,
/// as podinfo's overlays do) are applied; a plugin of any other kind is not run and
/// is listed as not scanned.
#[test]
fn builtin_transformers_are_applied_and_plugins_listed() {
    let dir = write(&[
        ("k/kustomization.yaml", "resources:\n  - deploy.yaml\ntransformers:\n  - labels.yaml\n  - ns.yaml\n  - patch.yaml\n"),
        ("k/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: web:1}]\n"),
        ("k/labels.yaml", "apiVersion: builtin\nkind: LabelTransformer\nmetadata: {name: labels}\nlabels: {env: dev}\nfieldSpecs:\n  - path: metadata/labels\n    create: true\n  - path: spec/template/metadata/labels\n    create: true\n    kind: Deployment\n"),
        ("k/ns.yaml", "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata: {name: ns, namespace: dev}\n"),
        ("k/patch.yaml", "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npatch: |-\n  - op: add\n    path: /spec/template/spec/hostPID\n    value: true\ntarget: {kind: Deployment}\n"),
    ]);
    let k = dir.path().join("k");
    agrees_with_kubectl(&k);
    let objects = rendered(&k);
    assert_eq!(objects[0]["metadata"]["namespace"], "dev");
    assert_eq!(
        objects[0]["spec"]["template"]["metadata"]["labels"]["env"],
        "dev"
    );
    assert_eq!(objects[0]["spec"]["template"]["spec"]["hostPID"], true);
    let report = run(&[dir.path().to_path_buf()]);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule_id == "BRK603" && f.resource == "Deployment dev/web"),
        "{:#?}",
        report.findings
    );

    // Any other transformer is a plugin: not run, said so.
    fs::write(
        k.join("ns.yaml"),
        "apiVersion: example.com/v1\nkind: SopsSecretGenerator\nmetadata: {name: secrets}\n",
    )
    .unwrap();
    let report = run(&[dir.path().to_path_buf()]);
    assert!(
        report
            .modules_not_scanned
            .iter()
            .any(|m| m.contains("transformer SopsSecretGenerator secrets: plugins are not run")),
        "{:#?}",
        report.modules_not_scanned
    );
}

/// Kustomizations named in `BREAKOUT_ORACLE_DIRS` (folders separated by `:`) are
/// compared with kubectl too: for trying checkouts of real repositories that are not
/// committed here. Without the variable, nothing is compared.
#[test]
fn kustomizations_named_in_the_environment_render_as_kubectl_does() {
    let Ok(dirs) = std::env::var("BREAKOUT_ORACLE_DIRS") else {
        return;
    };
    for dir in dirs.split(':').filter(|d| !d.is_empty()) {
        agrees_with_kubectl(Path::new(dir));
    }
}

const HELM_OUTPUT: &str = "---\n# Source: web/templates/serviceaccount.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n---\n# Source: web/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    spec:\n      securityContext: {runAsNonRoot: true, runAsUser: 1000}\n      containers:\n        - name: web\n          image: nginx\n          securityContext:\n            readOnlyRootFilesystem: true\n            allowPrivilegeEscalation: false\n            privileged: true\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: plain}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: x, securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}}]\n";

/// `helm template` output: each finding names the template its document comes from
/// (`# Source:`), in the resource and as a related location; a document without the
/// comment is named as usual. Read from a file or from standard input alike.
#[test]
fn helm_output_is_traced_to_its_templates() {
    let opts = ScanOptions {
        policies: breakout::engine::builtin(),
        ..Default::default()
    };
    for name in ["<stdin>", "rendered.yaml"] {
        let report = breakout::scan_contents(name, HELM_OUTPUT.as_bytes(), &opts).unwrap();
        let got: Vec<(&str, &str, u32)> = report
            .findings
            .iter()
            .filter(|f| f.rule_id != "BRK503")
            .map(|f| (f.rule_id.as_str(), f.resource.as_str(), f.location.line))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "BRK601",
                    "Deployment shop/web (web/templates/deployment.yaml)",
                    24
                ),
                ("BRK504", "Pod plain", 30),
            ],
            "{name}"
        );
        let f = &report
            .findings
            .iter()
            .find(|f| f.rule_id == "BRK601")
            .unwrap();
        assert_eq!(f.location.file, name);
        assert_eq!(f.related_locations.len(), 1, "{:#?}", f.related_locations);
        let r = &f.related_locations[0];
        assert_eq!(
            (r.file.as_str(), r.message.as_str()),
            (
                "web/templates/deployment.yaml",
                "rendered from Helm template web/templates/deployment.yaml"
            )
        );
        assert!(f.message.contains("(web/templates/deployment.yaml)"));
        let sa = &report.facts.service_accounts[0];
        assert_eq!(
            sa.resource,
            "ServiceAccount web (web/templates/serviceaccount.yaml)"
        );
    }
}

/// Chart folders stay passed over, with the `helm template … | breakout scan -` recipe.
#[test]
fn chart_folders_are_passed_over_with_the_recipe() {
    let dir = write(&[
        (
            "charts/web/Chart.yaml",
            "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        ),
        (
            "charts/web/templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
        ),
    ]);
    let report = run(&[dir.path().to_path_buf()]);
    let skipped = report
        .skipped
        .iter()
        .find(|s| s.file.ends_with("deployment.yaml"))
        .unwrap();
    assert!(skipped.file.ends_with("deployment.yaml"), "{skipped:?}");
    assert!(
        skipped.reason.contains("| breakout scan -`")
            && skipped.reason.contains("helm template RELEASE"),
        "{}",
        skipped.reason
    );
}
