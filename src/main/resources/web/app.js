// CardioSpike dashboard: recordings from --data or an uploaded CSV (scored by the server) and live patients
// from the streaming job (server-sent events). window.dashboard exposes state for tests and debugging.
'use strict';

const LIVE_BEATS = 2000; // the server keeps the same number per patient
const dashboard = window.dashboard = { model: null, current: null, rendered: null, live: null };
const uploads = new Map(); // option value -> scored recording
const $ = (id) => document.getElementById(id);

// With --auth-token-file the API wants "Authorization: Bearer <token>": asked once, kept for this tab only.
const TOKEN_KEY = 'cardiospike-token';
let token = sessionStorage.getItem(TOKEN_KEY) || '';
const withToken = (headers) => (token ? { ...headers, Authorization: 'Bearer ' + token } : { ...headers });

function askForToken() {
  $('token-message').textContent = token ? 'The token was not accepted; enter another.'
    : 'This server needs an API token.';
  $('token-panel').hidden = false;
  $('token-input').focus();
}

async function getJson(url, init) {
  const res = await fetch(url, { ...init, headers: withToken(init && init.headers) });
  const body = await res.json().catch(() => ({ error: res.statusText }));
  if (res.status === 401) askForToken();
  if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
  return body;
}

function showError(msg) {
  $('error').hidden = !msg;
  $('error').textContent = msg || '';
}

// --- rendering -------------------------------------------------------------------------------------------

// Recording time is ms since start; live ts may be epoch ms, shown as dates then.
function xValues(t) {
  const epoch = t.length > 0 && t[0] > 1e11;
  return { x: epoch ? t.map((v) => new Date(v)) : t.map((v) => v / 1000), epoch };
}

function markerSize(p, thr) {
  return 7 + 14 * Math.min(1, Math.max(0, (p - thr) / Math.max(1e-9, 1 - thr)));
}

/** rec: {id, time[], rr[], proba[], anomaly[], artifact[], episodes[{start_x, end_x, beats, max_proba}], model_version} */
function render(rec, key) {
  const thr = dashboard.model.threshold;
  const { x, epoch } = xValues(rec.time);
  const pick = (flags) => flags.reduce((acc, f, i) => (f ? (acc.push(i), acc) : acc), []);
  const anom = pick(rec.anomaly), art = pick(rec.artifact);
  const traces = [
    { name: 'RR', x, y: rec.rr, type: 'scatter', mode: 'lines', line: { color: '#7f8c9a', width: 1 },
      hovertemplate: 'RR %{y} ms<extra></extra>' },
    { name: 'anomaly', x: anom.map((i) => x[i]), y: anom.map((i) => rec.rr[i]), type: 'scatter', mode: 'markers',
      marker: { color: '#d62728', size: anom.map((i) => markerSize(rec.proba[i], thr)), line: { width: 0 } },
      text: anom.map((i) => rec.proba[i].toFixed(3)), hovertemplate: 'anomaly p=%{text}<br>RR %{y} ms<extra></extra>' },
    { name: 'artifact', x: art.map((i) => x[i]), y: art.map((i) => rec.rr[i]), type: 'scatter', mode: 'markers',
      marker: { color: '#ff9f1c', symbol: 'x', size: 8 }, hovertemplate: 'artifact RR %{y} ms<extra></extra>' },
    { name: 'proba', x, y: rec.proba, type: 'scatter', mode: 'lines', yaxis: 'y2', line: { color: '#1f77b4', width: 1 },
      hovertemplate: 'p=%{y:.3f}<extra></extra>' },
  ];
  const shapes = rec.episodes.slice(0, 300).map((e) => ({
    type: 'rect', xref: 'x', yref: 'paper', x0: e.start_x, x1: e.end_x, y0: 0.3, y1: 1,
    fillcolor: '#d62728', opacity: 0.08, line: { width: 0 } }));
  shapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y2', y0: thr, y1: thr,
    line: { color: '#d62728', width: 1, dash: 'dot' } });
  const layout = {
    margin: { l: 60, r: 20, t: 10, b: 40 }, showlegend: true, legend: { orientation: 'h', y: 1.06 },
    // one time axis under both panels (RR above, probability below)
    xaxis: { title: { text: epoch ? 'time' : 'time (s)' }, type: epoch ? 'date' : 'linear', anchor: 'y2' },
    yaxis: { title: { text: 'RR (ms)' }, domain: [0.3, 1] },
    yaxis2: { title: { text: 'proba' }, domain: [0, 0.22], range: [0, 1] },
    shapes, uirevision: key, // keep the user's zoom while live beats arrive
  };
  Plotly.react('chart', traces, layout, { responsive: true, displaylogo: false });

  $('recording-title').textContent = rec.id;
  $('recording-model').textContent = rec.model_version ? 'model ' + rec.model_version : '';
  const beats = rec.rr.length;
  const n = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;
  $('summary').textContent = `${n(beats, 'beat')} · ${anom.length} anomalous · ${n(art.length, 'artifact')} · `
    + n(rec.episodes.length, 'episode') + (rec.note ? ' · ' + rec.note : '');
  $('episode-count').textContent = String(rec.episodes.length);
  const body = $('episodes').querySelector('tbody');
  body.replaceChildren(...rec.episodes.slice(0, 500).map((e, n) => {
    const tr = document.createElement('tr');
    const fmt = (v) => (v instanceof Date ? v.toLocaleTimeString() : Number(v).toFixed(1) + ' s');
    [n + 1, fmt(e.start_x), fmt(e.end_x), e.beats, e.max_proba.toFixed(3)].forEach((v) => {
      const td = document.createElement('td');
      td.textContent = v;
      tr.appendChild(td);
    });
    tr.addEventListener('click', () => Plotly.relayout('chart', { 'xaxis.range': [e.start_x, e.end_x] }));
    return tr;
  }));
  dashboard.rendered = { key, beats, anomalies: anom.length, artifacts: art.length, episodes: rec.episodes.length };
}

/** Episodes of a scored recording (beat indices) in chart coordinates. */
function withEpisodeX(rec) {
  const { x } = xValues(rec.time);
  rec.episodes = rec.episodes.map((e) => ({ ...e, start_x: x[e.start], end_x: x[e.end], beats: e.end - e.start + 1 }));
  return rec;
}

// --- recordings (data file and uploads) ------------------------------------------------------------------

async function selectRecording(value) {
  stopLive();
  showError(null);
  dashboard.current = value;
  if (!value) return;
  try {
    let rec;
    if (value.startsWith('data:')) {
      rec = await getJson('/api/v1/recordings/' + encodeURIComponent(value.slice(5)));
    } else {
      rec = structuredClone(uploads.get(value));
    }
    if (dashboard.current === value) render(withEpisodeX(rec), value);
  } catch (e) {
    showError('Could not load the recording: ' + e.message);
  }
}

function addOption(group, value, label) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  group.appendChild(o);
}

async function upload(file) {
  showError(null);
  $('upload-status').textContent = 'scoring ' + file.name + '…';
  const form = new FormData();
  form.append('file', file);
  try {
    const res = await getJson('/api/v1/analyze', { method: 'POST', body: form });
    let first = null;
    for (const rec of res.recordings) {
      const value = 'upload:' + file.name + ':' + rec.id;
      if (!uploads.has(value)) addOption($('upload-group'), value, `${rec.id} (${file.name}, ${rec.beats} beats)`);
      uploads.set(value, rec);
      first = first || value;
    }
    $('upload-status').textContent = `${res.recordings.length} recordings from ${file.name}`;
    $('recording-select').value = first;
    await selectRecording(first);
  } catch (e) {
    $('upload-status').textContent = '';
    showError('Upload failed: ' + e.message);
  }
}

// --- live view -------------------------------------------------------------------------------------------

// Server-sent events read with fetch (EventSource cannot send a token), reconnecting like EventSource does.
let live = null; // AbortController of the open stream

function connectLive(patient) {
  if (live) live.abort();
  live = new AbortController();
  const url = '/api/v1/live/events' + (patient ? '?patient=' + encodeURIComponent(patient) : '');
  streamEvents(url, live.signal, {
    patients: (data) => renderPatients(JSON.parse(data).patients),
    snapshot: (data) => {
      const s = JSON.parse(data);
      dashboard.live = { id: s.patient_id, time: s.ts, rr: s.rr, proba: s.proba, anomaly: s.anomaly,
        artifact: s.artifact, alerts: s.recent_alerts || [], model_version: s.model_version, alertCount: s.alerts };
      renderLive();
    },
    beats: (data) => {
      const b = JSON.parse(data), l = dashboard.live;
      if (!l || b.patient_id !== l.id) return;
      for (const k of ['time', 'rr', 'proba', 'anomaly', 'artifact']) {
        const arr = l[k].concat(b[k === 'time' ? 'ts' : k]);
        l[k] = arr.length > LIVE_BEATS ? arr.slice(arr.length - LIVE_BEATS) : arr;
      }
      scheduleLiveRender();
    },
    alert: (data) => {
      const a = JSON.parse(data), l = dashboard.live;
      if (l && a.patient_id === l.id) {
        // an alert opens, then closes under the same alert_id: upsert
        const i = l.alerts.findIndex((x) => x.alert_id === a.alert_id);
        if (i >= 0) l.alerts[i] = a;
        else {
          l.alerts.push(a);
          l.alertCount = (l.alertCount || 0) + 1;
        }
        scheduleLiveRender();
      }
    },
  });
}

async function streamEvents(url, signal, handlers) {
  while (!signal.aborted) {
    try {
      const res = await fetch(url, { headers: withToken({ Accept: 'text/event-stream' }), signal });
      if (res.status === 401) {
        $('live-state').textContent = 'no token';
        askForToken();
        return;
      }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      $('live-state').textContent = 'live';
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = (buffer + value).replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) { // an event ends with a blank line
          dispatchEvent(buffer.slice(0, end), handlers);
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
    }
    $('live-state').textContent = 'reconnecting';
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** One event of the text/event-stream format: "event:" names it, "data:" lines carry it, ":" lines are comments. */
function dispatchEvent(frame, handlers) {
  let name = 'message';
  const data = [];
  for (const line of frame.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length > 0 && handlers[name]) handlers[name](data.join('\n'));
}

let renderTimer = null;
function scheduleLiveRender() {
  if (renderTimer) return;
  renderTimer = setTimeout(() => { renderTimer = null; renderLive(); }, 250); // at most 4 redraws a second
}

function renderLive() {
  const l = dashboard.live;
  if (!l || dashboard.current !== 'live:' + l.id) return;
  const epochTs = (t) => (t > 1e11 ? new Date(t) : t / 1000);
  const episodes = l.alerts.map((a) => ({ start_x: epochTs(a.start_ts), end_x: epochTs(a.end_ts), beats: a.beats,
    max_proba: a.max_proba }));
  render({ id: l.id, time: l.time, rr: l.rr, proba: l.proba, anomaly: l.anomaly, artifact: l.artifact, episodes,
    model_version: l.model_version, note: 'live, episodes are the job\'s alerts' }, 'live:' + l.id);
}

function renderPatients(patients) {
  $('live-empty').hidden = patients.length > 0;
  const list = $('live-patients');
  list.replaceChildren(...patients.map((p) => {
    const li = document.createElement('li');
    li.dataset.patient = p.patient_id;
    if (dashboard.current === 'live:' + p.patient_id) li.classList.add('selected');
    const name = document.createElement('b');
    name.textContent = p.patient_id;
    const info = document.createElement('div');
    info.className = 'muted';
    info.textContent = `${p.beats} beats · ${p.alerts} alerts`;
    li.append(name, info);
    if (p.latest_alert) {
      const a = document.createElement('div');
      a.className = 'alert';
      a.textContent = `latest alert: ${p.latest_alert.beats} beats, max p ${Number(p.latest_alert.max_proba).toFixed(2)}`;
      li.appendChild(a);
    }
    li.addEventListener('click', () => followPatient(p.patient_id));
    return li;
  }));
  dashboard.livePatients = patients.map((p) => p.patient_id);
  const selected = list.querySelector('li.selected');
  if (selected) selected.scrollIntoView({ block: 'nearest' }); // the re-rendered list keeps the followed patient in view
  else if (!dashboard.current && patients.length > 0) followPatient(patients[0].patient_id); // nothing shown yet
}

function followPatient(id) {
  showError(null);
  $('recording-select').value = '';
  dashboard.current = 'live:' + id;
  dashboard.live = null;
  document.querySelectorAll('#live-patients li').forEach((li) =>
    li.classList.toggle('selected', li.dataset.patient === id));
  connectLive(id);
}

function stopLive() {
  // back to the patient list only, if the live view is on
  if (dashboard.current && dashboard.current.startsWith('live:') && dashboard.liveEnabled) connectLive(null);
  dashboard.live = null;
  document.querySelectorAll('#live-patients li.selected').forEach((li) => li.classList.remove('selected'));
}

// --- start -----------------------------------------------------------------------------------------------

async function init() {
  showError(null);
  $('data-group').replaceChildren(); // init runs again once a token is entered
  try {
    const health = await getJson('/health');
    dashboard.model = { version: health.model_version, threshold: health.threshold };
    $('model-version').textContent = health.model_version;
    $('model-threshold').textContent = health.threshold.toFixed(3);
    const data = await getJson('/api/v1/recordings');
    $('data-source').textContent = data.source ? 'from ' + data.source : 'no --data file';
    for (const r of data.recordings) addOption($('data-group'), 'data:' + r.id, `${r.id} (${r.beats} beats)`);
    dashboard.liveEnabled = health.live;
    if (health.live) {
      $('live-panel').hidden = false;
      connectLive(null);
    }
    if (data.recordings.length > 0) { // open on the first recording rather than an empty chart
      $('recording-select').value = 'data:' + data.recordings[0].id;
      await selectRecording($('recording-select').value);
    }
    dashboard.ready = true;
  } catch (e) {
    showError($('token-panel').hidden ? 'Cannot reach the server: ' + e.message
      : 'Enter the server\'s API token to see its recordings.');
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token-input').value = '';
  $('token-panel').hidden = true;
  init();
});
$('recording-select').addEventListener('change', (e) => selectRecording(e.target.value));
$('csv-upload').addEventListener('change', (e) => { if (e.target.files[0]) upload(e.target.files[0]); });
init();
