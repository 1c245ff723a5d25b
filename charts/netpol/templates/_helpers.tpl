{{/*
The chart's name (nameOverride wins).
*/}}
{{- define "netpol.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name: the release name when it already contains the chart's
name (release `netpol` -> `netpol`), else `<release>-<chart>`. The agent's
objects are `<fullname>-agent`: `netpol-agent` for release `netpol`, as in deploy/.
*/}}
{{- define "netpol.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The name of the DaemonSet, ServiceAccount, ClusterRole and ClusterRoleBinding.
*/}}
{{- define "netpol.agentName" -}}
{{- printf "%s-agent" (include "netpol.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
chart label: name-version.
*/}}
{{- define "netpol.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels that select the agent's pods (also on the pods).
*/}}
{{- define "netpol.selectorLabels" -}}
app.kubernetes.io/name: {{ include "netpol.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}

{{/*
The labels of every object: deploy/'s, plus the two Helm adds (helm.sh/chart,
app.kubernetes.io/managed-by).
*/}}
{{- define "netpol.labels" -}}
helm.sh/chart: {{ include "netpol.chart" . }}
{{ include "netpol.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The agent's image: repository:tag, the tag defaulting to appVersion.
*/}}
{{- define "netpol.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
