//! compose services built from a Dockerfile of the same scan (`build: ./app`,
//! `build: {context, dockerfile, target}`).
//!
//! A service that sets no `user` runs as its image's user. When the image is built from
//! a scanned Dockerfile, that file decides: a non-root `USER` in the built stage (the
//! `target`, else the last) means the service does not run as root, and BRK302 stays
//! quiet; a root image is said so, with the Dockerfile line as related location. The
//! other way round, a Dockerfile that compose builds only with a `target` becomes the
//! image of that stage, so BRK303 judges the stage that is built, not the last one.

use crate::facts::{BuildStage, Container, Evidence, Facts, Image, Tri};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Links every compose service with a local build to the stage it builds, and judges
/// each Dockerfile on the stages compose builds.
pub fn compose_builds(all: &mut [Facts]) {
    let stages: BTreeMap<String, Vec<BuildStage>> = {
        let mut by_file: BTreeMap<String, Vec<BuildStage>> = BTreeMap::new();
        for f in all.iter() {
            for s in &f.build_stages {
                by_file
                    .entry(key(&s.image.file))
                    .or_default()
                    .push(s.clone());
            }
        }
        by_file
    };
    if stages.is_empty() {
        return;
    }
    // Dockerfile → the targets compose builds it with (`None`: the last stage).
    let mut targets: BTreeMap<String, BTreeSet<Option<String>>> = BTreeMap::new();
    for f in all.iter_mut() {
        for c in f.containers.iter_mut().filter(|c| c.platform == "compose") {
            let Some(build) = &c.build else { continue };
            let file = key(&build.dockerfile);
            let Some(file_stages) = stages.get(&file) else {
                continue;
            };
            let target = build.target.as_ref().map(|t| t.to_ascii_lowercase());
            let Some(stage) = pick(file_stages, target.as_deref()) else {
                // compose would fail the build; nothing to link.
                continue;
            };
            targets.entry(file).or_default().insert(target);
            apply(c, &stage.image);
        }
    }
    for f in all.iter_mut() {
        retarget_images(&mut f.images, &stages, &targets);
    }
}

/// The stage a build picks: the named target, or the last stage.
fn pick<'a>(stages: &'a [BuildStage], target: Option<&str>) -> Option<&'a BuildStage> {
    match target {
        Some(t) => stages.iter().find(|s| s.name.as_deref() == Some(t)),
        None => stages.iter().find(|s| s.last),
    }
}

/// A container without `user` takes the built image's user.
fn apply(c: &mut Container, image: &Image) {
    let at = image.locs.get("user").copied().unwrap_or(image.loc);
    // Named as the compose file names it: relative to the compose file's folder.
    let folder = Path::new(&c.file).parent().unwrap_or(Path::new(""));
    let shown = Path::new(&image.file)
        .strip_prefix(folder)
        .map_or(image.file.clone(), |p| p.display().to_string());
    let stage = if image.stages > 1 {
        format!(" ({})", image.stage)
    } else {
        String::new()
    };
    let built = format!("the image built from {shown}{stage}");
    c.built_image = Some(Evidence {
        what: format!(
            "builds the image of compose service {}{stage}: {}",
            c.name, image.root_reason
        ),
        file: image.file.clone(),
        loc: at,
    });
    if c.user_setting.is_some() || c.runs_as_root != Tri::Unknown {
        return;
    }
    match image.runs_as_root {
        Tri::No => {
            c.runs_as_root = Tri::No;
            c.run_as_user = image.run_as_user;
            c.root_unknown_reason = None;
        }
        Tri::Yes => {
            c.root_unknown_reason = Some(format!(
                "no `user` is set, and {built} runs as root: {}",
                image.root_reason
            ));
        }
        Tri::Unknown => {
            c.root_unknown_reason = Some(format!(
                "no `user` is set, and {built} decides: {}",
                image.root_reason
            ));
        }
    }
}

/// A Dockerfile that compose builds only with targets is judged on those stages; one
/// that compose also builds without a target keeps its image and gains the targets'.
fn retarget_images(
    images: &mut Vec<Image>,
    stages: &BTreeMap<String, Vec<BuildStage>>,
    targets: &BTreeMap<String, BTreeSet<Option<String>>>,
) {
    let files: BTreeSet<String> = images.iter().map(|i| key(&i.file)).collect();
    for file in files {
        let (Some(wanted), Some(file_stages)) = (targets.get(&file), stages.get(&file)) else {
            continue;
        };
        let named: Vec<&Image> = wanted
            .iter()
            .flatten()
            .filter_map(|t| pick(file_stages, Some(t)))
            .map(|s| &s.image)
            .collect();
        if named.is_empty() {
            continue;
        }
        let keep_own = wanted.contains(&None);
        let mut position = None;
        let mut index = 0;
        images.retain(|i| {
            index += 1;
            if key(&i.file) != file || keep_own {
                return true;
            }
            position.get_or_insert(index - 1);
            false
        });
        let at = position.unwrap_or(images.len());
        let new: Vec<Image> = named
            .into_iter()
            .filter(|n| {
                !images
                    .iter()
                    .any(|i| key(&i.file) == file && i.stage == n.stage)
            })
            .cloned()
            .collect();
        images.splice(at..at, new);
    }
}

/// A path as a comparable key: `./app/../app/Dockerfile` and `app/Dockerfile` agree.
fn key(file: &str) -> String {
    crate::discover::lexical(Path::new(file))
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{dockerfile, yaml};

    fn compose(text: &str) -> Facts {
        let mut facts = Facts::default();
        for doc in yaml::parse(text).unwrap() {
            crate::extract::compose::extract(&doc, "stack/compose.yaml", &mut facts);
        }
        facts
    }

    fn docker(path: &str, text: &str) -> Facts {
        let mut facts = Facts::default();
        let d = dockerfile::parse(text).unwrap();
        crate::extract::dockerfile::extract(&d, path, None, &mut facts);
        facts
    }

    const MULTI: &str = "FROM golang:1.23 AS build\nRUN go build -o /app .\n\nFROM build AS dev\nUSER root\n\nFROM gcr.io/distroless/static AS runtime\nCOPY --from=build /app /app\nUSER 65532:65532\n";

    #[test]
    fn a_service_takes_the_user_of_the_stage_it_builds() {
        let mut all = [
            compose("services:\n  api:\n    build: ./api\n  dev:\n    build: {context: ./api, target: dev}\n  root:\n    build:\n      context: .\n      dockerfile: ./worker/Dockerfile.worker\n  own:\n    build: ./api\n    user: \"0\"\n"),
            docker("stack/api/Dockerfile", MULTI),
            docker("stack/worker/Dockerfile.worker", "FROM python:3.12\nRUN pip install x\n"),
        ];
        compose_builds(&mut all);
        let c = &all[0].containers;
        let api = c.iter().find(|c| c.name == "api").unwrap();
        assert_eq!(api.runs_as_root, Tri::No);
        assert_eq!(api.run_as_user, Some(65532));
        let at = api.built_image.as_ref().unwrap();
        assert_eq!((at.file.as_str(), at.loc.line), ("stack/api/Dockerfile", 9));

        let dev = c.iter().find(|c| c.name == "dev").unwrap();
        assert_eq!(dev.runs_as_root, Tri::Unknown);
        let why = dev.root_unknown_reason.as_deref().unwrap();
        assert_eq!(
            why,
            "no `user` is set, and the image built from api/Dockerfile (stage dev) runs as root: \
             the image's last USER is root"
        );
        assert_eq!(dev.built_image.as_ref().unwrap().loc.line, 5);

        let root = c.iter().find(|c| c.name == "root").unwrap();
        assert_eq!(root.runs_as_root, Tri::Unknown);
        let at = root.built_image.as_ref().unwrap();
        assert_eq!(at.file, "stack/worker/Dockerfile.worker");
        assert_eq!(at.loc.line, 1, "no USER: the FROM line");

        let own = c.iter().find(|c| c.name == "own").unwrap();
        assert_eq!(own.runs_as_root, Tri::Yes, "its own user wins");
    }

    #[test]
    fn a_dockerfile_built_with_a_target_is_judged_on_that_stage() {
        let only_dev = || {
            [
                compose("services:\n  dev:\n    build: {context: api, target: DEV}\n"),
                docker("stack/api/Dockerfile", MULTI),
            ]
        };
        let mut all = only_dev();
        compose_builds(&mut all);
        let stages: Vec<&str> = all[1].images.iter().map(|i| i.stage.as_str()).collect();
        assert_eq!(stages, ["stage dev"]);
        assert_eq!(all[1].images[0].runs_as_root, Tri::Yes);

        // Built both ways: the last stage stays judged, the target joins it.
        let mut all = [
            compose("services:\n  dev:\n    build: {context: api, target: dev}\n  prod:\n    build: api\n"),
            docker("stack/api/Dockerfile", MULTI),
        ];
        compose_builds(&mut all);
        let stages: Vec<&str> = all[1].images.iter().map(|i| i.stage.as_str()).collect();
        assert_eq!(stages, ["stage runtime", "stage dev"]);
    }

    #[test]
    fn unscanned_dockerfiles_and_remote_contexts_change_nothing() {
        let mut all = [compose(
            "services:\n  a:\n    build: ./missing\n  b:\n    build: https://github.com/x/y.git#main\n  c:\n    build: {context: ., target: nope}\n",
        ), docker("stack/Dockerfile", MULTI)];
        compose_builds(&mut all);
        for c in &all[0].containers {
            assert!(c.built_image.is_none(), "{}", c.name);
            assert_eq!(c.runs_as_root, Tri::Unknown);
        }
        assert!(all[0].containers[1].build.is_none(), "remote context");
        assert_eq!(all[1].images[0].stage, "stage runtime");
    }
}
