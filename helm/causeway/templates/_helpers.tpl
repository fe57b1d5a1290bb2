{{/* Names and labels shared by every template. */}}

{{- define "causeway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: <release>-causeway, or the release name if it already says causeway. */}}
{{- define "causeway.fullname" -}}
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

{{- define "causeway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "causeway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "causeway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "causeway.labels" -}}
helm.sh/chart: {{ include "causeway.chart" . }}
{{ include "causeway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: worker
app.kubernetes.io/part-of: causeway
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "causeway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "causeway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The ConfigMap the configuration file comes from. */}}
{{- define "causeway.configMapName" -}}
{{- if .Values.config.existingConfigMap }}
{{- .Values.config.existingConfigMap }}
{{- else }}
{{- printf "%s-config" (include "causeway.fullname" .) }}
{{- end }}
{{- end }}

{{/* Where the control API listens: all addresses only with TLS (the worker refuses a
     non-loopback address without it), loopback otherwise. */}}
{{- define "causeway.controlListen" -}}
{{- if not .Values.control.enabled }}off
{{- else if .Values.control.tls.secretName }}0.0.0.0:{{ .Values.control.port }}
{{- else }}127.0.0.1:{{ .Values.control.port }}
{{- end }}
{{- end }}

{{/* Fails the render when a stopping worker could be killed before its drain ends. */}}
{{- define "causeway.checkGracePeriod" -}}
{{- $needed := add .Values.preStopSleepSeconds .Values.worker.drainTimeoutSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must be greater than preStopSleepSeconds + worker.drainTimeoutSeconds (%v): Kubernetes would kill workers before their drain ends" .Values.terminationGracePeriodSeconds $needed) }}
{{- end }}
{{- end }}
