//! `cloudabi-oci build` end to end: the archive is read back as `ctr image
//! import` reads it (index → manifest → config and layer, every blob named
//! by its sha256), the layer holds what was asked for, builds are
//! reproducible, and bad inputs are refused with a message and no output.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

fn guest(arch: &str, name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/guest").join(arch).join(name);
    assert!(
        path.exists(),
        "{} is missing: build the guest programs first (scripts/build-guest)",
        path.display()
    );
    path
}

fn build(args: &[&str], epoch: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudabi-oci"))
        .arg("build")
        .args(args)
        .env("SOURCE_DATE_EPOCH", epoch)
        .output()
        .unwrap()
}

/// Path → (header, contents) of every entry of a tar.
fn entries(tar_bytes: &[u8]) -> BTreeMap<String, (tar::Header, Vec<u8>)> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut out = BTreeMap::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.insert(path, (e.header().clone(), data));
    }
    out
}

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The image in an archive, checked the way an importer walks it.
struct Image {
    index: Value,
    manifest: Value,
    config: Value,
    layer: BTreeMap<String, (tar::Header, Vec<u8>)>,
}

fn read_image(archive: &[u8]) -> Image {
    let outer = entries(archive);
    assert_eq!(outer["oci-layout"].1, br#"{"imageLayoutVersion":"1.0.0"}"#);
    // Every blob is named by the sha256 of its bytes.
    let blobs: BTreeMap<String, Vec<u8>> = outer
        .iter()
        .filter_map(|(p, (_, d))| p.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()).map(|h| (h, d)))
        .map(|(hex, data)| {
            assert_eq!(sha256(data), hex, "blob {hex}");
            (format!("sha256:{hex}"), data.clone())
        })
        .collect();
    assert_eq!(blobs.len(), 3, "manifest, config, layer");
    let resolve = |desc: &Value| -> Vec<u8> {
        let data = blobs[desc["digest"].as_str().unwrap()].clone();
        assert_eq!(desc["size"].as_u64().unwrap(), data.len() as u64);
        data
    };
    let index: Value = serde_json::from_slice(&outer["index.json"].1).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1);
    assert_eq!(manifests[0]["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let manifest: Value = serde_json::from_slice(&resolve(&manifests[0])).unwrap();
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    let config: Value = serde_json::from_slice(&resolve(&manifest["config"])).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "no base image: one layer");
    assert_eq!(layers[0]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
    let layer_bytes = resolve(&layers[0]);
    assert_eq!(config["rootfs"]["diff_ids"][0], format!("sha256:{}", sha256(&layer_bytes)));
    Image { index, manifest, config, layer: entries(&layer_bytes) }
}

#[test]
fn the_web_server_image_holds_the_program_its_yaml_and_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    fs::create_dir_all(www.join("docs")).unwrap();
    fs::write(www.join("index.html"), "<h1>hi</h1>\n").unwrap();
    fs::write(www.join("docs/README.txt"), "readme\n").unwrap();
    std::os::unix::fs::symlink("../secret.txt", www.join("shortcut")).unwrap();
    let yaml = tmp.path().join("web.yaml");
    fs::write(
        &yaml,
        "socket: !socket {bind: \"127.0.0.1:8080\"}\nroot: !file {path: /srv/www, mode: read}\n",
    )
    .unwrap();
    let program = guest("x86_64", "webserver");
    let out = tmp.path().join("web.tar");
    let add = format!("{}:/srv/www", www.display());
    let args = [
        "--program",
        program.to_str().unwrap(),
        "--config",
        yaml.to_str().unwrap(),
        "--add",
        &add,
        "--arch",
        "amd64",
        "--name",
        "cloudabi/web",
        "--output",
        out.to_str().unwrap(),
    ];
    let result = build(&args, "1700000000");
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("docker.io/cloudabi/web:latest (linux/amd64)"), "{stdout}");
    let archive = fs::read(&out).unwrap();
    let image = read_image(&archive);

    let desc = &image.index["manifests"][0];
    assert_eq!(desc["platform"], serde_json::json!({"architecture": "amd64", "os": "linux"}));
    assert_eq!(desc["annotations"]["io.containerd.image.name"], "docker.io/cloudabi/web:latest");
    assert_eq!(desc["annotations"]["org.opencontainers.image.ref.name"], "latest");
    assert_eq!(
        (image.config["architecture"].as_str(), image.config["os"].as_str()),
        (Some("amd64"), Some("linux"))
    );
    assert_eq!(image.config["config"]["Entrypoint"], serde_json::json!(["/cloudabi/program"]));
    assert_eq!(image.manifest["annotations"]["org.cloudabi.config"], "/cloudabi/config.yaml");

    let names: Vec<&str> = image.layer.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "cloudabi/",
            "cloudabi/config.yaml",
            "cloudabi/program",
            "srv/",
            "srv/www/",
            "srv/www/docs/",
            "srv/www/docs/README.txt",
            "srv/www/index.html",
            "srv/www/shortcut"
        ]
    );
    let (h, data) = &image.layer["cloudabi/program"];
    assert_eq!(data, &fs::read(&program).unwrap());
    assert_eq!((h.mode().unwrap(), h.uid().unwrap(), h.gid().unwrap()), (0o755, 0, 0));
    assert_eq!(h.mtime().unwrap(), 1_700_000_000);
    assert_eq!(image.layer["cloudabi/config.yaml"].1, fs::read(&yaml).unwrap());
    assert_eq!(image.layer["cloudabi/config.yaml"].0.mode().unwrap(), 0o644);
    let (link, _) = &image.layer["srv/www/shortcut"];
    assert_eq!(link.entry_type(), tar::EntryType::Symlink);
    assert_eq!(link.link_name().unwrap().unwrap().to_str(), Some("../secret.txt"));
    assert_eq!(image.layer["srv/www/"].0.entry_type(), tar::EntryType::Directory);

    // Reproducible: the same inputs and time give the same bytes.
    assert!(build(&args, "1700000000").status.success());
    assert_eq!(fs::read(&out).unwrap(), archive);
    assert!(build(&args, "1700000001").status.success());
    assert_ne!(fs::read(&out).unwrap(), archive, "the time stamp is in the layer");
}

#[test]
fn an_arm64_image_for_an_aarch64_program() {
    let tmp = tempfile::tempdir().unwrap();
    let yaml = tmp.path().join("ls.yaml");
    fs::write(&yaml, "dir: !file {path: /, mode: read}\nout: !fd stdout\n").unwrap();
    let out = tmp.path().join("ls.tar");
    let program = guest("aarch64", "ls");
    let r = build(
        &[
            "--program",
            program.to_str().unwrap(),
            "--config",
            yaml.to_str().unwrap(),
            "--arch",
            "arm64",
            "--name",
            "localhost/ls:v1",
            "-o",
            out.to_str().unwrap(),
        ],
        "0",
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let image = read_image(&fs::read(&out).unwrap());
    assert_eq!(image.index["manifests"][0]["platform"]["architecture"], "arm64");
    assert_eq!(image.config["architecture"], "arm64");
    assert_eq!(image.index["manifests"][0]["annotations"]["io.containerd.image.name"], "localhost/ls:v1");
}

#[test]
fn bad_inputs_are_refused_with_a_message_and_no_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let good_yaml = tmp.path().join("good.yaml");
    fs::write(&good_yaml, "out: !fd stdout\n").unwrap();
    let bad_yaml = tmp.path().join("bad.yaml");
    fs::write(&bad_yaml, "a: 1\nb: [x,\n").unwrap();
    let out = tmp.path().join("out.tar");
    let x86 = guest("x86_64", "ls");
    let cases: [(&Path, &Path, &str, &str); 4] = [
        (&x86, &good_yaml, "arm64", "not for arm64"),
        (Path::new("/bin/sh"), &good_yaml, "amd64", "not a CloudABI executable (ELF OS/ABI"),
        (&x86, &bad_yaml, "amd64", "bad.yaml:3:1: "),
        (&x86, &tmp.path().join("missing.yaml"), "amd64", "missing.yaml: No such file"),
    ];
    for (program, yaml, arch, expected) in cases {
        let r = build(
            &[
                "--program",
                program.to_str().unwrap(),
                "--config",
                yaml.to_str().unwrap(),
                "--arch",
                arch,
                "--name",
                "x",
                "--output",
                out.to_str().unwrap(),
            ],
            "0",
        );
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(1), "{err}");
        assert!(err.contains(expected), "expected {expected:?} in: {err}");
        assert!(!out.exists());
    }
    let usage = build(&["--program", "x"], "0");
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("are required"));
    let r = build(&["--name", "x", "--add", "nodest"], "0");
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("SOURCE:/ABSOLUTE/DESTINATION"));
}
