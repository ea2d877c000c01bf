"""A generic object store for the kube-apiserver fixture (server.py).

Any group/version/resource, core or named group, namespaced or cluster
scoped, served the way the real API server serves it:

  list / get / watch   resourceVersion, BOOKMARKs, 410 Gone once compacted
  create (POST), update (PUT), delete (DELETE, with the garbage
  collector's cascade: objects whose ownerReferences name a deleted uid go
  too), merge patch (application/merge-patch+json), server-side apply
  (application/apply-patch+yaml, fieldManager, force; managedFields per
  manager; 409 Conflict naming the other manager without force; fields a
  manager stops applying are removed when nobody else owns them), the
  status subresource (writes to the object ignore status, writes to
  /status change only status), discovery of built-in resources and of
  every CustomResourceDefinition created, and scripted RBAC denials (403
  per namespace, verb and resource).

Field ownership is tracked per leaf: maps are walked key by key, lists and
scalars are leaves. That is what the real server does for Secrets' data,
labels and annotations; associative lists are simplified to atomic ones.

Server.py owns the lock and the resourceVersion counter (one counter for
pods and objects, as etcd has one revision); this module is handed both.
"""
import copy
import hashlib
import json
import time

BUILTIN = [
    # group, version, plural, kind, namespaced, shortNames
    ("", "v1", "secrets", "Secret", True, []),
    ("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    ("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    ("", "v1", "events", "Event", True, ["ev"]),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions",
     "CustomResourceDefinition", False, ["crd", "crds"]),
    ("rbac.authorization.k8s.io", "v1", "roles", "Role", True, []),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", True, []),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False, []),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding",
     False, []),
    ("events.k8s.io", "v1", "events", "Event", True, ["ev"]),
    # workloads: their status is a subresource the scenario's script moves
    ("apps", "v1", "deployments", "Deployment", True, ["deploy"]),
    ("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"]),
    ("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"]),
    ("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"]),
    ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True,
     ["hpa"]),
]
WITH_STATUS = {"apps", "autoscaling"}
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = details


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Resource:
    def __init__(self, group, version, plural, kind, namespaced, short=(),
                 singular="", status=False, columns=None, crd=None):
        self.group, self.version, self.plural = group, version, plural
        self.kind, self.namespaced = kind, namespaced
        self.short = list(short)
        self.singular = singular or kind.lower()
        self.status = status            # has the status subresource
        self.columns = columns or []    # additionalPrinterColumns
        self.crd = crd                  # name of the CRD that serves it

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    def gr(self):
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural


# --- field sets -----------------------------------------------------------
def leaves(obj, prefix=()):
    """The leaf paths of an applied object (dict keys walked, rest atomic)."""
    out = set()
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            if not prefix and k in ("apiVersion", "kind"):
                continue
            if prefix == ("metadata",) and k in ("name", "namespace",
                                                  "managedFields", "resourceVersion",
                                                  "uid", "generation",
                                                  "creationTimestamp"):
                continue
            out |= leaves(v, prefix + (k,))
        return out
    if prefix:
        out.add(prefix)
    return out


def get_path(obj, path):
    for k in path:
        if not isinstance(obj, dict) or k not in obj:
            return None, False
        obj = obj[k]
    return obj, True


def set_path(obj, path, value):
    for k in path[:-1]:
        if not isinstance(obj.get(k), dict):
            obj[k] = {}
        obj = obj[k]
    obj[path[-1]] = copy.deepcopy(value)


def del_path(obj, path):
    stack = []
    for k in path[:-1]:
        if not isinstance(obj, dict) or k not in obj:
            return
        stack.append((obj, k))
        obj = obj[k]
    if isinstance(obj, dict):
        obj.pop(path[-1], None)
    # prune maps left empty
    for parent, k in reversed(stack):
        if parent[k] == {}:
            del parent[k]
        else:
            break


def fields_v1(paths):
    tree = {}
    for p in sorted(paths):
        node = tree
        for k in p:
            node = node.setdefault("f:" + k, {})
    return tree


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def diff_leaves(old, new):
    """Leaf paths of new whose value differs from old."""
    return {p for p in leaves(new) if get_path(old, p) != get_path(new, p)}


class Store:
    def __init__(self, lock, state, scenario):
        self.lock, self.state, self.scen = lock, state, scenario
        self.resources = {}     # (group, plural) -> Resource
        self.objects = {}       # (group, plural, ns, name) -> obj
        self.managed = {}       # key -> {manager: (operation, set(paths), apiVersion, time)}
        self.events = []        # (rv, type, (group, plural), obj)
        self.uids = 0
        for g, v, p, k, nsd, short in BUILTIN:
            self.resources[(g, p)] = Resource(g, v, p, k, nsd, short,
                                              status=g in WITH_STATUS)
        with lock:
            for obj in scenario.get("objects", []):
                res = self.by_kind(obj["apiVersion"], obj["kind"])
                if res is None:
                    raise SystemExit("scenario object of unknown kind %s" % obj["kind"])
                # a scenario's object comes with the status it starts from
                self.create(res, obj["metadata"].get("namespace"), obj, "scenario",
                            keep_status=True)

    # --- lookup ----------------------------------------------------------
    def find(self, group, version, plural):
        res = self.resources.get((group, plural))
        if res is None or res.version != version:
            return None
        return res

    def by_kind(self, api_version, kind):
        group, _, version = api_version.rpartition("/")
        for r in self.resources.values():
            if r.group == group and r.version == version and r.kind == kind:
                return r
        return None

    def groups(self):
        """{group: [versions]} of every named group served."""
        out = {}
        for r in self.resources.values():
            if r.group and r.version not in out.setdefault(r.group, []):
                out[r.group].append(r.version)
        return out

    def discovery(self, group, version):
        res = [r for r in self.resources.values()
               if r.group == group and r.version == version]
        out = []
        for r in sorted(res, key=lambda r: r.plural):
            out.append({"name": r.plural, "singularName": r.singular,
                        "namespaced": r.namespaced, "kind": r.kind,
                        "verbs": VERBS, "shortNames": r.short})
            if r.status:
                out.append({"name": r.plural + "/status", "singularName": "",
                            "namespaced": r.namespaced, "kind": r.kind,
                            "verbs": ["get", "patch", "update"]})
        return out

    # --- RBAC --------------------------------------------------------------
    def authorize(self, user, verb, res, ns, name):
        for d in self.scen.get("deny", []):
            if d.get("user") not in (None, user):
                continue
            if d.get("namespace") not in (None, ns):
                continue
            if d.get("resource") not in (None, res.plural):
                continue
            if d.get("verbs") and verb not in d["verbs"]:
                continue
            what = '%s "%s"' % (res.gr(), name) if name else res.gr()
            where = ('in the namespace "%s"' % ns) if ns else "at the cluster scope"
            raise ApiError(403, "Forbidden",
                           '%s is forbidden: User "%s" cannot %s resource "%s" '
                           'in API group "%s" %s' % (what, user, verb, res.plural,
                                                      res.group, where))

    # --- writes ----------------------------------------------------------
    def next_rv(self):
        self.state["rv"] += 1
        return self.state["rv"]

    def emit(self, ty, res, obj):
        self.events.append((int(obj["metadata"]["resourceVersion"]), ty,
                            (res.group, res.plural), copy.deepcopy(obj)))
        self.lock.notify_all()

    def render(self, key, obj):
        """A copy of obj with its managedFields."""
        obj = copy.deepcopy(obj)
        mf = []
        for m, (op, paths, av, t, sub) in sorted(self.managed.get(key, {}).items()):
            if not paths:
                continue
            e = {"manager": m, "operation": op, "apiVersion": av, "time": t,
                 "fieldsType": "FieldsV1", "fieldsV1": fields_v1(paths)}
            if sub:
                e["subresource"] = sub
            mf.append(e)
        if mf:
            obj["metadata"]["managedFields"] = mf
        else:
            obj["metadata"].pop("managedFields", None)
        return obj

    def key(self, res, ns, name):
        return (res.group, res.plural, ns if res.namespaced else None, name)

    def check_target(self, res, ns, body, name=None):
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body is not an object")
        meta = body.setdefault("metadata", {})
        if name is not None and meta.get("name") not in (None, name):
            raise ApiError(400, "BadRequest",
                           "the name of the object (%s) does not match the name on "
                           "the URL (%s)" % (meta.get("name"), name))
        if name is not None:
            meta["name"] = name
        if not meta.get("name"):
            raise ApiError(422, "Invalid", "%s is invalid: metadata.name: Required value"
                           % res.kind)
        if res.namespaced:
            if meta.get("namespace") not in (None, ns):
                raise ApiError(400, "BadRequest",
                               "the namespace of the provided object does not match "
                               "the namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        body["apiVersion"], body["kind"] = res.api_version, res.kind

    def create(self, res, ns, body, manager, op="Update", keep_status=False):
        body = copy.deepcopy(body)
        self.check_target(res, ns, body)
        key = self.key(res, ns, body["metadata"]["name"])
        if key in self.objects:
            raise ApiError(409, "AlreadyExists", '%s "%s" already exists'
                           % (res.gr(), body["metadata"]["name"]))
        meta = body["metadata"]
        for k in ("resourceVersion", "managedFields"):
            meta.pop(k, None)
        self.uids += 1
        meta["uid"] = hashlib.md5(("%s/%d" % (key, self.uids)).encode()).hexdigest()
        meta["uid"] = "%s-%s-%s-%s-%s" % (meta["uid"][:8], meta["uid"][8:12],
                                          meta["uid"][12:16], meta["uid"][16:20],
                                          meta["uid"][20:])
        meta["creationTimestamp"] = rfc3339(time.time())
        if res.crd or "spec" in body:
            meta["generation"] = 1
        if res.status and op != "Apply" and not keep_status:
            body.pop("status", None)
        paths = leaves(body) - ({p for p in leaves(body) if p[0] == "status"}
                                if res.status else set())
        self.defaults(res, body)
        meta["resourceVersion"] = str(self.next_rv())
        self.objects[key] = body
        self.managed[key] = {manager: (op, paths, res.api_version,
                                       rfc3339(time.time()), None)}
        if res.kind == "CustomResourceDefinition":
            self.register_crd(body)
        self.emit("ADDED", res, self.render(key, body))
        return self.render(key, body)

    def defaults(self, res, obj):
        """What the API server fills in; nobody owns it."""
        if res.kind == "Secret":
            obj.setdefault("type", "Opaque")

    def commit(self, res, key, old, new, manager, op, sub=None):
        """Store new in place of old; ownership of changed fields moves."""
        self.defaults(res, new)
        changed = diff_leaves(old, new)
        removed = leaves(old) - leaves(new)
        if not changed and not removed:
            return self.render(key, old)
        mgrs = self.managed.setdefault(key, {})
        for m in list(mgrs):
            o, paths, av, t, s = mgrs[m]
            mgrs[m] = (o, paths - removed - (changed if m != manager else set()), av, t, s)
        if op == "Update":
            o, paths, av, t, s = mgrs.get(manager, (op, set(), res.api_version, "", sub))
            mgrs[manager] = (op, paths | changed, res.api_version,
                             rfc3339(time.time()), sub)
        spec_changed = any(p[0] not in ("metadata", "status") for p in changed | removed)
        if "generation" in old["metadata"]:
            new["metadata"]["generation"] = old["metadata"]["generation"] + \
                (1 if spec_changed else 0)
        new["metadata"]["resourceVersion"] = str(self.next_rv())
        self.objects[key] = new
        if res.kind == "CustomResourceDefinition":
            self.register_crd(new)
        self.emit("MODIFIED", res, self.render(key, new))
        return self.render(key, new)

    def get(self, res, ns, name):
        key = self.key(res, ns, name)
        obj = self.objects.get(key)
        if obj is None:
            raise ApiError(404, "NotFound", '%s "%s" not found' % (res.gr(), name))
        return key, obj

    def check_rv(self, obj, body):
        want = body.get("metadata", {}).get("resourceVersion")
        if want and want != obj["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict",
                           'Operation cannot be fulfilled on %s "%s": the object has '
                           'been modified; please apply your changes to the latest '
                           'version and try again' % (obj["kind"].lower() + "s",
                                                      obj["metadata"]["name"]))

    def keep_server_fields(self, old, new):
        for k in ("uid", "creationTimestamp", "generation", "resourceVersion"):
            if k in old["metadata"]:
                new["metadata"][k] = old["metadata"][k]
        new["metadata"].pop("managedFields", None)

    def update(self, res, ns, name, body, manager, sub=None):
        body = copy.deepcopy(body)
        self.check_target(res, ns, body, name)
        key, old = self.get(res, ns, name)
        self.check_rv(old, body)
        new = copy.deepcopy(old) if sub else body
        if sub == "status":
            new["status"] = body.get("status")
            if new["status"] is None:
                new.pop("status")
        elif res.status:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        self.keep_server_fields(old, new)
        return self.commit(res, key, old, new, manager, "Update", sub)

    def patch_merge(self, res, ns, name, patch, manager, sub=None):
        key, old = self.get(res, ns, name)
        if not isinstance(patch, dict):
            raise ApiError(400, "BadRequest", "the patch is not an object")
        self.check_rv(old, patch)
        if sub == "status":
            patch = {"status": patch.get("status")} if "status" in patch else {}
        elif res.status:
            patch = {k: v for k, v in patch.items() if k != "status"}
        new = merge_patch(old, patch)
        self.check_target(res, ns, new, name)
        self.keep_server_fields(old, new)
        return self.commit(res, key, old, new, manager, "Update", sub)

    def apply(self, res, ns, name, body, manager, force, sub=None):
        if not manager:
            raise ApiError(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: "
                           "fieldManager: Required value: is required for apply patch")
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the apply patch is not an object")
        body = copy.deepcopy(body)
        self.check_target(res, ns, body, name)
        if sub == "status":
            body = {"apiVersion": body["apiVersion"], "kind": body["kind"],
                    "metadata": body["metadata"], "status": body.get("status", {})}
        elif res.status:
            body.pop("status", None)
        key = self.key(res, ns, name)
        mine = leaves(body)
        if key not in self.objects:
            obj = self.create(res, ns, body, manager, op="Apply")
            return obj, True
        old = self.objects[key]
        mgrs = self.managed.setdefault(key, {})
        conflicts = []
        for m, (op, paths, av, t, s) in sorted(mgrs.items()):
            if m == manager:
                continue
            for p in sorted(paths & mine):
                if get_path(old, p) != get_path(body, p):
                    conflicts.append((m, p))
        if conflicts and not force:
            causes = [{"reason": "FieldManagerConflict",
                       "message": 'conflict with "%s": .%s' % (m, ".".join(p)),
                       "field": "." + ".".join(p)} for m, p in conflicts]
            raise ApiError(409, "Conflict",
                           "Apply failed with %d conflict%s: %s" % (
                               len(conflicts), "" if len(conflicts) == 1 else "s",
                               "; ".join(c["message"] for c in causes)),
                           {"name": name, "group": res.group, "kind": res.plural,
                            "causes": causes})
        new = copy.deepcopy(old)
        # fields this manager applied before and no longer applies, and
        # nobody else owns, are removed
        before = mgrs.get(manager, ("Apply", set(), "", "", None))[1] \
            if mgrs.get(manager, ("",))[0] == "Apply" else set()
        others = set()
        for m, (op, paths, av, t, s) in mgrs.items():
            if m != manager:
                others |= paths
        for p in before - mine - others:
            del_path(new, p)
        for p in mine:
            set_path(new, p, get_path(body, p)[0])
        self.keep_server_fields(old, new)
        # ownership: forced fields leave their old owners
        if force:
            for m, p in conflicts:
                op, paths, av, t, s = mgrs[m]
                mgrs[m] = (op, paths - {p}, av, t, s)
        prev = mgrs.get(manager)
        mgrs[manager] = ("Apply", mine, res.api_version,
                         prev[3] if prev and prev[1] == mine else rfc3339(time.time()), sub)
        self.defaults(res, new)
        changed = diff_leaves(old, new) | (leaves(old) - leaves(new))
        if not changed:
            return self.render(key, old), False
        # commit without moving ownership again (Apply already did)
        return self.commit(res, key, old, new, manager, "Apply", sub), False

    def delete(self, res, ns, name):
        key, obj = self.get(res, ns, name)
        self.remove(res, key, obj)
        # the garbage collector: dependents of a deleted owner go too
        gone = [obj["metadata"]["uid"]]
        while gone:
            uid = gone.pop()
            for k, o in list(self.objects.items()):
                refs = o["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == uid for r in refs):
                    r2 = self.resources.get((k[0], k[1]))
                    self.remove(r2, k, o)
                    gone.append(o["metadata"]["uid"])
        return {"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Success",
                "details": {"name": name, "group": res.group, "kind": res.plural,
                            "uid": obj["metadata"]["uid"]}}

    def remove(self, res, key, obj):
        del self.objects[key]
        self.managed.pop(key, None)
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.next_rv())
        self.emit("DELETED", res, obj)

    # --- CRDs --------------------------------------------------------------
    def register_crd(self, crd):
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        for v in spec.get("versions", []):
            if not v.get("served", True):
                continue
            self.resources[(spec["group"], names["plural"])] = Resource(
                spec["group"], v["name"], names["plural"], names["kind"],
                spec.get("scope", "Namespaced") == "Namespaced",
                names.get("shortNames", []), names.get("singular", ""),
                "status" in (v.get("subresources") or {}),
                v.get("additionalPrinterColumns", []), crd["metadata"]["name"])
            break

    # --- reads -------------------------------------------------------------
    def list(self, res, ns, label_ok, field_ok):
        out = []
        for key, obj in sorted(self.objects.items(), key=lambda kv: (
                kv[0][2] or "", kv[0][3])):
            if key[0] != res.group or key[1] != res.plural:
                continue
            if ns and key[2] != ns:
                continue
            if not label_ok(obj) or not field_ok(obj):
                continue
            out.append(self.render(key, obj))
        return out


def jsonpath(obj, path):
    """The simple JSONPath of printer columns: .a.b, .a[0].b."""
    cur = obj
    for part in path.strip(".").replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("["):
            try:
                i = int(part[1:-1])
            except ValueError:
                return None
            cur = cur[i] if isinstance(cur, list) and len(cur) > i else None
        else:
            cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is None:
            return None
    return cur


def table(res, objs, rv):
    cols = [("Name", "string", "name", "")]
    for c in res.columns:
        cols.append((c["name"], c.get("type", "string"), c.get("format", ""),
                     c["jsonPath"]))
    if not any(c[0] == "Age" for c in cols):
        cols.append(("Age", "date", "", ".metadata.creationTimestamp"))
    rows = []
    now = time.time()
    for o in objs:
        cells = []
        for name, ty, fmt, path in cols:
            if name == "Name":
                cells.append(o["metadata"]["name"])
                continue
            v = jsonpath(o, path)
            if ty == "date" and isinstance(v, str):
                t = time.mktime(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
                v = "%ds" % max(0, int(now - t))
            cells.append("" if v is None else v)
        meta = {k: v for k, v in o["metadata"].items() if k != "managedFields"}
        rows.append({"cells": cells, "object": {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": meta}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": [{"name": n, "type": "string" if t == "date" else t,
                                   "format": f, "description": "", "priority": 0}
                                  for n, t, f, _ in cols],
            "rows": rows}


def dumps(obj):
    return json.dumps(obj)
