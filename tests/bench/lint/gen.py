# A monorepo of APPS apps x 25 documents, five files of five documents
# each, shaped like real manifests.
import os, sys
root, apps = sys.argv[1], int(sys.argv[2])
os.makedirs(os.path.join(root, "manifests/apps"), exist_ok=True)
with open(os.path.join(root, "saasctl.yaml"), "w") as f:
    f.write("project: bench\n")

def deployment(app, name, i):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {app}
  labels:
    app: {name}
    tier: backend
  annotations:
    deploy.example.com/revision: "{i}"
spec:
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
        tier: backend
    spec:
      containers:
        - name: {name}
          image: ghcr.io/bench/{app}-{name}:1.{i}.0
          args: ["--port", "8000", "--workers", "4"]
          ports:
            - name: http
              containerPort: 8000
          envFrom:
            - configMapRef:
                name: {name}-config
          env:
            - name: LOG_LEVEL
              value: info
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
          resources:
            requests: {{cpu: 100m, memory: 128Mi}}
            limits: {{memory: 512Mi}}
          readinessProbe:
            httpGet: {{path: /healthz, port: http}}
            periodSeconds: 5
          livenessProbe:
            httpGet: {{path: /healthz, port: http}}
            initialDelaySeconds: 10
"""

def service(app, name):
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {app}
  labels:
    app: {name}
spec:
  selector:
    app: {name}
  ports:
    - name: http
      port: 8000
      targetPort: http
"""

def ingress(app, name):
    return f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: {app}
  annotations:
    cert-manager.io/cluster-issuer: letsencrypt-prod
    nginx.ingress.kubernetes.io/limit-rpm: "600"
    external-dns.alpha.kubernetes.io/cloudflare-proxied: "true"
spec:
  ingressClassName: nginx
  tls:
    - secretName: {name}-tls
      hosts: [{name}.{app}.example.com]
  rules:
    - host: {name}.{app}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {name}
                port:
                  name: http
"""

def hpa(app, name):
    return f"""apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  namespace: {app}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {name}
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 70
"""

def configmap(app, name):
    data = "".join(f"  SETTING_{k}: \"value-{k}\"\n" for k in range(12))
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {app}
data:
{data}"""

for a in range(apps):
    app = f"app{a:03d}"
    d = os.path.join(root, "manifests/apps", app)
    os.makedirs(d, exist_ok=True)
    for i in range(5):
        name = f"svc{i}"
        docs = [deployment(app, name, i), service(app, name), ingress(app, name),
                hpa(app, name), configmap(app, name)]
        with open(os.path.join(d, f"{name}.yaml"), "w") as f:
            f.write("---\n".join(docs))
