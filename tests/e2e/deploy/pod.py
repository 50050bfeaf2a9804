#!/usr/bin/python3
"""pod.py - run a rendered CronJob's container here as the kubelet would
run it, without a container runtime: writes a shell script for
`unshare --mount --pid --fork --mount-proc` (root only) that

  - makes the image's root: an overlay of this machine's / (Debian 12, the
    libraries the image installs) with the binary at /usr/local/bin/kopilot
    (the Containerfile's COPY), read-only when the container's
    securityContext says readOnlyRootFilesystem;
  - mounts every volumeMount of the container from its pod volume: a
    configMap as its files (keys or items, defaultMode 0644; missing and
    optional: empty), an emptyDir as a tmpfs (sizeLimit), a
    persistentVolumeClaim as the host directory --pvc CLAIM=DIR, read-only
    when the mount says so; the service account token, ca.crt and
    namespace at /var/run/secrets/kubernetes.io/serviceaccount;
  - runs command + args (as given: sh -c ... "$@") as PID 1 of a new PID
    namespace, with the pod's runAsUser, runAsGroup and fsGroup, and only
    the container's env (value, configMapKeyRef, secretKeyRef; a reference
    to a Secret or key that does not exist is left out when optional, else
    an error, as the kubelet does), PATH as the image sets it, KUBERNETES_SERVICE_HOST/PORT.

  pod.py RENDERED.yaml CRONJOB CONTAINER --binary B --work DIR --sa DIR
         [--pvc CLAIM=DIR]... [--env NAME=VALUE]... [--argv WORD]... > pod.sh
  unshare --mount --pid --fork --mount-proc sh pod.sh

The script's exit code is the container's. A secretKeyRef takes its value
from a Secret of RENDERED (a test overlay's); without one it must be
optional, as the install works without the Secrets.
"""
import argparse
import base64
import os
import shlex
import sys

import yaml

IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def die(msg):
    sys.stderr.write("pod.py: %s\n" % msg)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rendered")
    ap.add_argument("cronjob")
    ap.add_argument("container")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work", required=True, help="an empty directory for the volumes' files")
    ap.add_argument("--sa", required=True, help="token, ca.crt and namespace of the service account")
    ap.add_argument("--pvc", action="append", default=[])
    ap.add_argument("--env", action="append", default=[], help="what the kubelet adds (KUBERNETES_SERVICE_*)")
    ap.add_argument("--argv", action="append", default=[],
                    help="run this instead of command + args (repeatable: one word each), as kubectl debug would")
    a = ap.parse_args()
    docs = [d for d in yaml.safe_load_all(open(a.rendered, encoding="utf-8")) if isinstance(d, dict)]
    cj = next((d for d in docs if d.get("kind") == "CronJob" and d["metadata"]["name"] == a.cronjob), None)
    if cj is None:
        die("no CronJob %s in %s" % (a.cronjob, a.rendered))
    ns = cj["metadata"].get("namespace", "default")
    pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if pod.get("initContainers"):
        die("init containers are not run here")
    c = next((x for x in pod["containers"] if x["name"] == a.container), None)
    if c is None:
        die("no container %s" % a.container)
    cms = {d["metadata"]["name"]: d for d in docs
           if d.get("kind") == "ConfigMap" and d["metadata"].get("namespace", ns) == ns}
    secrets = {}  # name -> {key: value}: a test overlay's Secrets (stringData or data)
    for d in docs:
        if d.get("kind") == "Secret" and d["metadata"].get("namespace", ns) == ns:
            vals = {k: base64.b64decode(v).decode() for k, v in (d.get("data") or {}).items()}
            vals.update(d.get("stringData") or {})
            secrets[d["metadata"]["name"]] = vals
    pvcs = dict(p.split("=", 1) for p in a.pvc)
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    psc = pod.get("securityContext") or {}
    csc = c.get("securityContext") or {}
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    gid = csc.get("runAsGroup", psc.get("runAsGroup", uid))
    if uid is None:
        die("no runAsUser: the image's USER would apply; give one in the manifest")
    if (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) and uid == 0):
        die("runAsNonRoot with runAsUser 0: the kubelet refuses to start it")
    fsgroup = psc.get("fsGroup")

    w = os.path.abspath(a.work)
    root = w + "/root"

    def at(path):
        """path inside the new root, its symlinks resolved there (the lower
        layer is this machine's /, so they are this machine's: /var/run is
        /run); never a path outside the root."""
        return root + os.path.realpath(path)

    sh = ["set -eu", "mount --make-rprivate /",
          "mount -t tmpfs tmpfs %s" % shlex.quote(w),
          "mkdir -p %s/up %s/ovl %s/vol %s" % ((shlex.quote(w),) * 3 + (shlex.quote(root),)),
          "mount -t overlay overlay -o lowerdir=/,upperdir=%s/up,workdir=%s/ovl %s" % (w, w, root),
          "mkdir -p %s/usr/local/bin && cp %s %s/usr/local/bin/kopilot && chmod 0755 %s/usr/local/bin/kopilot"
          % (root, shlex.quote(os.path.abspath(a.binary)), root, root),
          "mount --rbind /dev %s/dev" % root,
          "mount -t proc proc %s/proc" % root]

    def volume_files(name, files, mode=0o644):
        d = "%s/vol/%s" % (w, name)
        sh.append("mkdir -p %s" % shlex.quote(d))
        for path, text in files:
            sh.append("mkdir -p %s && printf '%%s' %s > %s && chmod %o %s" % (
                shlex.quote(os.path.dirname(d + "/" + path)), shlex.quote(text), shlex.quote(d + "/" + path), mode,
                shlex.quote(d + "/" + path)))
        return d

    # the mount points first (the root is still writable), then the mounts
    mounts = []
    for m in c.get("volumeMounts") or []:
        v = vols.get(m["name"])
        if v is None:
            die("volumeMount %s: no such volume in the pod" % m["name"])
        target = at(m["mountPath"])
        ro = bool(m.get("readOnly"))
        if "configMap" in v:
            ref = v["configMap"]
            cm = cms.get(ref["name"])
            if cm is None and not ref.get("optional"):
                die("volume %s: ConfigMap %s does not exist (the pod would not start)" % (m["name"], ref["name"]))
            data = (cm or {}).get("data") or {}
            items = ref.get("items")
            files = [(i["path"], data[i["key"]]) for i in items] if items else sorted(data.items())
            src = volume_files(m["name"], files, ref.get("defaultMode", 0o644))
            mounts.append("mount --bind %s %s" % (shlex.quote(src), shlex.quote(target)))
            ro = True  # configMap volumes are always read-only
        elif "emptyDir" in v:
            size = (v["emptyDir"] or {}).get("sizeLimit")
            opt = "mode=1777" + (",size=%s" % size.replace("Gi", "g").replace("Mi", "m") if size else "")
            mounts.append("mount -t tmpfs -o %s tmpfs %s" % (opt, shlex.quote(target)))
        elif "persistentVolumeClaim" in v:
            claim = v["persistentVolumeClaim"]["claimName"]
            if claim not in pvcs:
                die("volume %s: claim %s: give --pvc %s=DIR" % (m["name"], claim, claim))
            mounts.append("mount --bind %s %s" % (shlex.quote(pvcs[claim]), shlex.quote(target)))
        else:
            die("volume %s: only configMap, emptyDir and persistentVolumeClaim are run here" % m["name"])
        sh.append("mkdir -p %s" % shlex.quote(target))
        if ro:
            mounts.append("mount -o remount,bind,ro %s" % shlex.quote(target))
    sh.append("mkdir -p %s" % at(SA_DIR))
    sh.extend(mounts)
    sh.append("mount --bind %s %s && mount -o remount,bind,ro %s" % (
        shlex.quote(os.path.abspath(a.sa)), at(SA_DIR), at(SA_DIR)))
    if csc.get("readOnlyRootFilesystem"):
        sh.append("mount -o remount,ro %s" % root)

    env = ["PATH=" + IMAGE_PATH, "HOSTNAME=%s-manual" % a.cronjob] + a.env
    for e in c.get("env") or []:
        if "value" in e:
            env.append("%s=%s" % (e["name"], e["value"]))
            continue
        vf = e.get("valueFrom") or {}
        if "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            val = secrets.get(ref["name"], {}).get(ref["key"])
            if val is not None:
                env.append("%s=%s" % (e["name"], val))
            elif not ref.get("optional"):
                die("env %s: Secret %s does not exist and the reference is not optional: the pod would not start"
                    % (e["name"], ref["name"]))
        elif "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            val = ((cms.get(ref["name"]) or {}).get("data") or {}).get(ref["key"])
            if val is None and not ref.get("optional"):
                die("env %s: ConfigMap %s has no key %s" % (e["name"], ref["name"], ref["key"]))
            if val is not None:
                env.append("%s=%s" % (e["name"], val))
        else:
            die("env %s: only value, secretKeyRef and configMapKeyRef are run here" % e["name"])
    argv = a.argv or list(c.get("command") or []) + list(c.get("args") or [])
    if not argv:
        die("no command or args: the image's ENTRYPOINT would run; give them in the manifest")
    groups = "--groups=%d" % fsgroup if fsgroup is not None else "--clear-groups"
    sh.append("cd %s" % root)
    sh.append("exec chroot %s setpriv --reuid=%d --regid=%d %s --inh-caps=-all --bounding-set=-all "
              "--no-new-privs env -i %s %s" % (root, uid, gid, groups, " ".join(shlex.quote(x) for x in env),
                                               " ".join(shlex.quote(x) for x in argv)))
    print("\n".join(sh))


if __name__ == "__main__":
    main()
