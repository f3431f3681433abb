//! The rewrite of a bundle's `config.json` (an OCI runtime spec) that turns
//! a container whose process is a CloudABI program into one whose process
//! is `cloudabi-run` running it.
//!
//! A container is a CloudABI container when its process's first argument
//! is the program path: [`PROGRAM_PATH`] (the entrypoint `cloudabi-oci
//! build` writes), or the value of the [`PROGRAM_ANNOTATION`] annotation.
//! Everything else, such as a Kubernetes pod's pause container, passes
//! through unchanged. The decision reads only the spec, never the
//! container's root file system, which belongs to the image and so to
//! whoever built it.
//!
//! The rewrite changes only the process and adds one mount:
//! - args: `/.cloudabi-run --sandbox --config CONFIG PROGRAM`;
//! - a read-only bind mount of the host's cloudabi-run at `/.cloudabi-run`;
//! - capabilities: every set keeps at most `CAP_NET_BIND_SERVICE` (a
//!   `!socket` may bind a port below 1024; a CloudABI program needs no
//!   other privilege, and cloudabi-run's sandbox needs none);
//! - `noNewPrivileges`: on;
//! - the annotation [`REWRITTEN_ANNOTATION`], so that a second rewrite of
//!   the same bundle changes nothing.
//!
//! Unknown fields are kept as they are (the spec is handled as JSON, not
//! as a fixed structure), so newer runtime-spec fields survive.

use serde_json::{Map, Value, json};

use crate::{CONFIG_ANNOTATION, CONFIG_PATH, Error, PROGRAM_ANNOTATION, PROGRAM_PATH};

/// Where the host's cloudabi-run appears inside the container.
pub const RUNNER_PATH: &str = "/.cloudabi-run";
/// Marks a spec this module has rewritten.
pub const REWRITTEN_ANNOTATION: &str = "org.cloudabi.oci.rewritten";
/// The one capability a CloudABI container's process may keep.
const KEPT_CAPABILITY: &str = "CAP_NET_BIND_SERVICE";

/// What [`rewrite`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The container's process is not a CloudABI program: spec unchanged.
    NotCloudabi,
    /// The spec was rewritten before: unchanged.
    AlreadyRewritten,
    /// The process now runs `program` through cloudabi-run with `config`.
    Rewritten { program: String, config: String },
}

fn annotation<'a>(spec: &'a Value, key: &str) -> Option<&'a Value> {
    spec.get("annotations").and_then(|a| a.get(key))
}

/// The annotation's value as an absolute path, or `default`.
fn path_annotation(spec: &Value, key: &str, default: &str) -> Result<String, Error> {
    match annotation(spec, key) {
        None => Ok(default.to_owned()),
        Some(Value::String(s)) if s.starts_with('/') => Ok(s.clone()),
        Some(v) => Err(Error::new(format!(
            "annotation {key} must be an absolute path inside the container, not {v}"
        ))),
    }
}

/// `spec[key]` as an object, created when absent.
fn object<'a>(parent: &'a mut Map<String, Value>, key: &str) -> Result<&'a mut Map<String, Value>, Error> {
    parent
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| Error::new(format!("config.json: \"{key}\" is not an object")))
}

/// Rewrites `spec` when its process is a CloudABI program. `host_runner`
/// gives the host path of the (statically linked) cloudabi-run to
/// bind-mount; it is asked only for a CloudABI container, so that other
/// containers start even where cloudabi-run is missing.
pub fn rewrite(
    spec: &mut Value,
    host_runner: impl FnOnce() -> Result<String, Error>,
) -> Result<Outcome, Error> {
    if annotation(spec, REWRITTEN_ANNOTATION).is_some() {
        return Ok(Outcome::AlreadyRewritten);
    }
    let program = path_annotation(spec, PROGRAM_ANNOTATION, PROGRAM_PATH)?;
    let args = spec.pointer("/process/args").and_then(Value::as_array);
    let Some(args) = args.filter(|a| a.first().and_then(Value::as_str) == Some(program.as_str())) else {
        return Ok(Outcome::NotCloudabi);
    };
    if args.len() > 1 {
        return Err(Error::new(format!(
            "the CloudABI program {program} was given arguments ({}); a CloudABI program takes \
             its arguments from its YAML configuration, so the container's command must be the \
             program alone",
            Value::Array(args[1..].to_vec())
        )));
    }
    let config = path_annotation(spec, CONFIG_ANNOTATION, CONFIG_PATH)?;
    let host_runner = host_runner()?;

    let root = spec.as_object_mut().ok_or_else(|| Error::new("config.json is not a JSON object"))?;
    let mounts = root.entry("mounts").or_insert_with(|| json!([]));
    let mounts =
        mounts.as_array_mut().ok_or_else(|| Error::new("config.json: \"mounts\" is not an array"))?;
    if mounts.iter().any(|m| m.get("destination").and_then(Value::as_str) == Some(RUNNER_PATH)) {
        return Err(Error::new(format!("config.json already mounts something at {RUNNER_PATH}")));
    }
    mounts.push(json!({
        "destination": RUNNER_PATH,
        "type": "bind",
        "source": host_runner,
        "options": ["bind", "ro", "nosuid", "nodev"],
    }));

    let process = object(root, "process")?;
    process.insert("args".into(), json!([RUNNER_PATH, "--sandbox", "--config", config, program]));
    process.insert("noNewPrivileges".into(), Value::Bool(true));
    if let Some(caps) = process.get_mut("capabilities").and_then(Value::as_object_mut) {
        for set in caps.values_mut() {
            if let Some(list) = set.as_array_mut() {
                list.retain(|c| c.as_str() == Some(KEPT_CAPABILITY));
            }
        }
    }
    object(root, "annotations")?.insert(REWRITTEN_ANNOTATION.into(), Value::String(RUNNER_PATH.into()));
    Ok(Outcome::Rewritten { program, config })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(path: &str) -> impl FnOnce() -> Result<String, Error> {
        let path = path.to_owned();
        move || Ok(path)
    }

    /// The shape of the spec containerd 1.6's ctr writes for an image whose
    /// entrypoint is the program.
    fn ctr_spec(args: Value) -> Value {
        json!({
            "ociVersion": "1.0.2-dev",
            "process": {
                "user": {"uid": 0, "gid": 0},
                "args": args,
                "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "cwd": "/",
                "capabilities": {
                    "bounding": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"],
                    "effective": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"],
                    "permitted": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL"]
                },
                "noNewPrivileges": false
            },
            "root": {"path": "rootfs"},
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
            "linux": {"resources": {"memory": {"limit": 67108864}}, "namespaces": [{"type": "pid"}]},
            "someFutureField": {"kept": true}
        })
    }

    #[test]
    fn a_cloudabi_entrypoint_runs_through_cloudabi_run() {
        let mut spec = ctr_spec(json!(["/cloudabi/program"]));
        let before = spec.clone();
        let out = rewrite(&mut spec, runner("/opt/cloudabi/bin/cloudabi-run")).unwrap();
        assert_eq!(out, Outcome::Rewritten { program: PROGRAM_PATH.into(), config: CONFIG_PATH.into() });
        assert_eq!(
            spec["process"]["args"],
            json!(["/.cloudabi-run", "--sandbox", "--config", "/cloudabi/config.yaml", "/cloudabi/program"])
        );
        let mounts = spec["mounts"].as_array().unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(
            mounts[1],
            json!({"destination": "/.cloudabi-run", "type": "bind", "source": "/opt/cloudabi/bin/cloudabi-run",
                   "options": ["bind", "ro", "nosuid", "nodev"]})
        );
        for set in ["bounding", "effective", "permitted"] {
            assert_eq!(spec["process"]["capabilities"][set], json!(["CAP_NET_BIND_SERVICE"]), "{set}");
        }
        assert_eq!(spec["process"]["noNewPrivileges"], json!(true));
        // Namespaces, resources, the root and unknown fields: runc's, as given.
        for key in ["linux", "root", "someFutureField", "ociVersion"] {
            assert_eq!(spec[key], before[key], "{key}");
        }
        assert_eq!(spec["process"]["env"], before["process"]["env"]);
        assert_eq!(spec["annotations"][REWRITTEN_ANNOTATION], json!(RUNNER_PATH));
    }

    #[test]
    fn rewriting_twice_changes_nothing() {
        let mut spec = ctr_spec(json!(["/cloudabi/program"]));
        rewrite(&mut spec, runner("/r")).unwrap();
        let once = spec.clone();
        assert_eq!(rewrite(&mut spec, runner("/r")).unwrap(), Outcome::AlreadyRewritten);
        assert_eq!(spec, once);
    }

    #[test]
    fn other_containers_pass_through_untouched() {
        for args in [json!(["/pause"]), json!(["/bin/sh", "-c", "/cloudabi/program"]), json!([])] {
            let mut spec = ctr_spec(args);
            let before = spec.clone();
            assert_eq!(rewrite(&mut spec, runner("/r")).unwrap(), Outcome::NotCloudabi);
            assert_eq!(spec, before);
        }
        // Not even asked for cloudabi-run.
        let mut pause = ctr_spec(json!(["/pause"]));
        let missing = || Err(Error::new("no cloudabi-run"));
        assert_eq!(rewrite(&mut pause, missing).unwrap(), Outcome::NotCloudabi);
        let mut no_process = json!({"root": {"path": "rootfs"}});
        assert_eq!(rewrite(&mut no_process, runner("/r")).unwrap(), Outcome::NotCloudabi);
    }

    #[test]
    fn annotations_name_another_program_and_configuration() {
        let mut spec = ctr_spec(json!(["/app/server"]));
        spec["annotations"] =
            json!({PROGRAM_ANNOTATION: "/app/server", CONFIG_ANNOTATION: "/etc/server.yaml"});
        let out = rewrite(&mut spec, runner("/r")).unwrap();
        assert_eq!(
            out,
            Outcome::Rewritten { program: "/app/server".into(), config: "/etc/server.yaml".into() }
        );
        assert_eq!(spec["process"]["args"][3], json!("/etc/server.yaml"));
        assert_eq!(spec["annotations"][PROGRAM_ANNOTATION], json!("/app/server"), "kept");
        // A pod-wide annotation does not capture the pod's other containers.
        let mut pause = ctr_spec(json!(["/pause"]));
        pause["annotations"] = json!({PROGRAM_ANNOTATION: "/app/server"});
        assert_eq!(rewrite(&mut pause, runner("/r")).unwrap(), Outcome::NotCloudabi);
    }

    #[test]
    fn bad_specs_get_errors_that_say_what_is_wrong() {
        let mut extra = ctr_spec(json!(["/cloudabi/program", "--port", "80"]));
        let e = rewrite(&mut extra, runner("/r")).unwrap_err().0;
        assert!(e.contains("[\"--port\",\"80\"]") && e.contains("YAML configuration"), "{e}");

        let mut relative = ctr_spec(json!(["/cloudabi/program"]));
        relative["annotations"] = json!({CONFIG_ANNOTATION: "config.yaml"});
        let e = rewrite(&mut relative, runner("/r")).unwrap_err().0;
        assert!(e.contains(CONFIG_ANNOTATION) && e.contains("absolute"), "{e}");

        let mut taken = ctr_spec(json!(["/cloudabi/program"]));
        taken["mounts"] = json!([{"destination": RUNNER_PATH, "type": "bind", "source": "/evil"}]);
        assert!(rewrite(&mut taken, runner("/r")).unwrap_err().0.contains("already mounts"));

        let mut no_runner = ctr_spec(json!(["/cloudabi/program"]));
        let missing = || Err(Error::new("no cloudabi-run beside the runtime"));
        assert_eq!(rewrite(&mut no_runner, missing).unwrap_err().0, "no cloudabi-run beside the runtime");

        let mut bad_mounts = ctr_spec(json!(["/cloudabi/program"]));
        bad_mounts["mounts"] = json!("none");
        assert!(rewrite(&mut bad_mounts, runner("/r")).unwrap_err().0.contains("\"mounts\" is not an array"));
    }

    #[test]
    fn a_spec_without_capabilities_or_mounts_gets_what_it_needs() {
        let mut spec =
            json!({"process": {"args": ["/cloudabi/program"], "cwd": "/"}, "root": {"path": "rootfs"}});
        rewrite(&mut spec, runner("/r")).unwrap();
        assert_eq!(spec["mounts"].as_array().unwrap().len(), 1);
        assert!(spec["process"].get("capabilities").is_none());
    }
}
