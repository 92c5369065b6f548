// CardioSpike dashboard: recordings from --data or an uploaded CSV (scored by the server) and live patients
// from the streaming job (server-sent events). window.dashboard exposes state for tests and debugging.
'use strict';

const LIVE_BEATS = 2000; // the server keeps the same number per patient
const dashboard = window.dashboard = { model: null, current: null, rendered: null, live: null, loading: [],
  recordings: [], livePatients: [] };
const uploads = new Map(); // option value -> scored recording
const $ = (id) => document.getElementById(id);

/** "1 alert", "2 alerts". */
const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;
/** Ids in natural order ("p2" before "p10"), so lists keep their order whatever the server sends first. */
const byId = (a, b) => a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
const matches = (id, query) => id.toLowerCase().includes(query.trim().toLowerCase());

// One time format everywhere: 24-hour HH:MM:SS, clock time for live beats, time since the start for recordings.
const pad = (v) => String(v).padStart(2, '0');
const clockTime = (d) => `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
// Plotly reads a number on a date axis as a year, so a recording's times go in as UTC date strings from 1970-01-01.
const elapsedDate = (ms) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
const formatX = (v) => (v instanceof Date ? clockTime(v) : String(v).slice(11, 19));

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

/** An error shown where the action was: 'error' above the chart, 'upload-error' under the upload control. */
function showError(msg, where = 'error') {
  $(where).hidden = !msg;
  $(where).textContent = msg || '';
}

function clearErrors() {
  showError(null);
  showError(null, 'upload-error');
}

/** What is in flight ('upload', 'recording', 'live'): a badge by the title while anything is. */
function setLoading(what, on) {
  dashboard.loading = dashboard.loading.filter((w) => w !== what).concat(on ? [what] : []);
  $('loading').hidden = dashboard.loading.length === 0;
  $('content').setAttribute('aria-busy', String(dashboard.loading.length > 0));
}

// --- rendering -------------------------------------------------------------------------------------------

// Recording time is ms since its start, drawn on a date axis from 1970-01-01 UTC so that it reads as HH:MM:SS
// elapsed; live ts is epoch ms, drawn as Dates (local clock time).
function xValues(t) {
  const epoch = t.length > 0 && t[0] > 1e11;
  return { x: epoch ? t.map((v) => new Date(v)) : t.map(elapsedDate), epoch };
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
      hovertemplate: '%{x}<br>RR %{y} ms<extra></extra>' },
    { name: 'anomaly', x: anom.map((i) => x[i]), y: anom.map((i) => rec.rr[i]), type: 'scatter', mode: 'markers',
      customdata: anom, // beat indices: a click explains the beat
      marker: { color: '#d62728', size: anom.map((i) => markerSize(rec.proba[i], thr)), line: { width: 0 } },
      text: anom.map((i) => rec.proba[i].toFixed(3)),
      hovertemplate: '%{x}<br>anomaly p=%{text}<br>RR %{y} ms<extra></extra>' },
    { name: 'artifact', x: art.map((i) => x[i]), y: art.map((i) => rec.rr[i]), type: 'scatter', mode: 'markers',
      marker: { color: '#ff9f1c', symbol: 'x', size: 8 }, hovertemplate: '%{x}<br>artifact RR %{y} ms<extra></extra>' },
    { name: 'proba', x, y: rec.proba, type: 'scatter', mode: 'lines', yaxis: 'y2', line: { color: '#1f77b4', width: 1 },
      hovertemplate: '%{x}<br>p=%{y:.3f}<extra></extra>' },
  ];
  const shapes = rec.episodes.slice(0, 300).map((e) => ({
    type: 'rect', xref: 'x', yref: 'paper', x0: e.start_x, x1: e.end_x, y0: 0.3, y1: 1,
    fillcolor: e.suppressed ? '#7f7f7f' : '#d62728', opacity: 0.08, line: { width: 0 } }));
  shapes.push({ type: 'line', xref: 'paper', x0: 0, x1: 1, yref: 'y2', y0: thr, y1: thr,
    line: { color: '#d62728', width: 1, dash: 'dot' } });
  const layout = {
    margin: { l: 60, r: 20, t: 10, b: 40 }, showlegend: true, legend: { orientation: 'h', y: 1.06 },
    // one time axis under both panels (RR above, probability below)
    xaxis: { title: { text: epoch ? 'time (HH:MM:SS)' : 'time since the start (HH:MM:SS)' }, type: 'date',
      tickformat: '%H:%M:%S', hoverformat: '%H:%M:%S', anchor: 'y2' },
    yaxis: { title: { text: 'RR (ms)' }, domain: [0.3, 1] },
    yaxis2: { title: { text: 'proba' }, domain: [0, 0.22], range: [0, 1] },
    shapes, uirevision: key, hovermode: 'closest', // keep the user's zoom while live beats arrive
  };
  Plotly.react('chart', traces, layout, { responsive: true, displaylogo: false });
  const gd = $('chart');
  if (gd.removeAllListeners) gd.removeAllListeners('plotly_click');
  gd.on('plotly_click', (ev) => { // a flagged beat, through its marker or the RR line under it
    const p = ev.points.find((pt) => pt.data.name === 'anomaly') || ev.points.find((pt) => pt.data.name === 'RR');
    const i = p && (p.data.name === 'anomaly' ? p.customdata : p.pointIndex);
    if (p && rec.anomaly[i]) explainBeat(i);
  });
  if (!dashboard.rendered || dashboard.rendered.key !== key) showExplanation(null);
  dashboard.view = { rec, x };

  $('recording-title').textContent = rec.id;
  $('recording-model').textContent = rec.model_version ? 'model ' + rec.model_version : '';
  const beats = rec.rr.length;
  $('summary').textContent = `${plural(beats, 'beat')} · ${anom.length} anomalous · ${plural(art.length, 'artifact')}`
    + ` · ${plural(rec.episodes.length, 'episode')}` + (rec.note ? ' · ' + rec.note : '');
  $('episode-count').textContent = String(rec.episodes.length);
  $('episode-start').textContent = epoch ? 'start' : 'start (since the recording began)';
  const body = $('episodes').querySelector('tbody');
  body.replaceChildren(...rec.episodes.slice(0, 500).map((e, n) => {
    const tr = document.createElement('tr');
    if (e.suppressed) { // --alert-hold: shown, greyed, never hidden
      tr.classList.add('suppressed');
      tr.title = 'held: opened within the alert hold after this patient\'s last alert';
    }
    [n + 1, formatX(e.start_x), formatX(e.end_x), e.beats, e.max_proba.toFixed(3)].forEach((v) => {
      const td = document.createElement('td');
      td.textContent = v;
      tr.appendChild(td);
    });
    tr.addEventListener('click', () => {
      Plotly.relayout('chart', { 'xaxis.range': [e.start_x, e.end_x] });
      showExplanation(e.explanation, `the beat at ${formatX(e.start_x)} (episode ${n + 1})`,
        'No explanation came with this alert.');
    });
    return tr;
  }));
  dashboard.rendered = { key, beats, anomalies: anom.length, artifacts: art.length, episodes: rec.episodes.length };
}

/**
 * Nothing shown, and says why: after a failed action the previous patient must not look like its result. The URL
 * is cleared too, unless it is what named the thing that cannot be shown (the user sees what they asked for).
 */
function clearView(title, summary, keepUrl) {
  stopLive();
  dashboard.current = null;
  dashboard.rendered = null;
  $('recording-select').value = '';
  if (!keepUrl) setHash(null, true);
  Plotly.purge('chart');
  $('recording-title').textContent = title;
  $('recording-model').textContent = '';
  $('summary').textContent = summary;
  $('episode-count').textContent = '0';
  $('episodes').querySelector('tbody').replaceChildren();
  showExplanation(null);
}

/** Episodes of a scored recording (beat indices) in chart coordinates. */
function withEpisodeX(rec) {
  const { x } = xValues(rec.time);
  const explained = new Map((rec.explanations || []).map((e) => [e.beat, e]));
  rec.explanationAt = (i) => explained.get(i);
  rec.episodes = rec.episodes.map((e) => ({ ...e, start_x: x[e.start], end_x: x[e.end], beats: e.end - e.start + 1,
    explanation: explained.get(e.start) }));
  return rec;
}

// --- explanations: why a beat was flagged ----------------------------------------------------------------

const INPUTS = { lgbm_margin: 'LightGBM', cnn_logit: 'CardioNet', artifact_c: 'artifact flag', intercept: 'intercept' };
const signed = (v) => (v >= 0 ? '+' : '\u2212') + Math.abs(v).toFixed(2);

/** A bar of |value| against the largest, red when it pushes towards an anomaly, blue when away. */
function bar(value, largest) {
  const track = document.createElement('span');
  track.className = 'bar-track';
  const b = document.createElement('span');
  b.className = 'bar ' + (value >= 0 ? 'up' : 'down');
  b.style.width = (100 * Math.min(1, Math.abs(value) / Math.max(1e-12, largest))).toFixed(1) + '%';
  track.appendChild(b);
  return track;
}

function cells(tr, ...values) {
  for (const v of values) {
    const td = document.createElement('td');
    td.append(v);
    tr.appendChild(td);
  }
  return tr;
}

/** A flagged beat of the chart, clicked: its explanation, or why there is none. */
function explainBeat(i) {
  const { rec, x } = dashboard.view || {};
  if (!rec) return;
  const e = rec.explanationAt && rec.explanationAt(i);
  showExplanation(e, `the beat at ${formatX(x[i])}`, rec.explanations ? 'No explanation for this beat.'
    : 'The streaming job explains the beat that opens an alert; click the first beat of an episode.');
  if (!e) dashboard.explained = { label: formatX(x[i]), reasons: 0 };
}

/**
 * Shows an explanation (the API's or an alert's): the 5 reasons with a bar each, the stacker's terms, and the RR
 * window with the explained beat marked. Without one: hidden, or the note when a beat was asked for.
 */
function showExplanation(e, label, note) {
  $('explanation').hidden = !e && !label;
  dashboard.explained = e ? { label, reasons: e.reasons.length } : null;
  if (!e) {
    Plotly.purge('explanation-window');
    $('explanation-body').hidden = true;
    if (label) {
      $('explanation-title').textContent = 'Why ' + label + ' was flagged';
      $('explanation-summary').textContent = note || '';
    }
    return;
  }
  $('explanation-body').hidden = false;
  $('explanation-title').textContent = 'Why ' + label + ' was flagged';
  $('explanation-summary').textContent = `p = ${e.proba.toFixed(3)} (log-odds ${signed(e.log_odds)}); LightGBM `
    + `log-odds ${signed(e.lightgbm_margin)}, from ${signed(e.lightgbm_expected)} on an average beat`;
  const largest = Math.max(...e.reasons.map((r) => Math.abs(r.contribution)));
  $('explanation-reasons').replaceChildren(...e.reasons.map((r) => {
    const li = document.createElement('li');
    li.title = r.feature;
    const text = document.createElement('span');
    text.className = 'reason';
    text.textContent = r.text;
    const value = document.createElement('span');
    value.className = 'muted';
    value.textContent = signed(r.contribution);
    li.append(text, bar(r.contribution, largest), value);
    return li;
  }));
  $('explanation-shares').querySelector('tbody').replaceChildren(...e.stacker.map((t) =>
    cells(document.createElement('tr'), INPUTS[t.input] || t.input, signed(t.log_odds), bar(t.share, 1),
      `${Math.round(100 * Math.abs(t.share))} %`)));
  const offsets = e.window_rr.map((_, k) => k - e.beat_index);
  Plotly.react('explanation-window', [
    { name: 'RR', x: offsets, y: e.window_rr, type: 'scatter', mode: 'lines+markers', line: { color: '#7f8c9a' },
      marker: { size: 5 }, hovertemplate: 'beat %{x}<br>RR %{y} ms<extra></extra>' },
    { name: 'explained beat', x: [0], y: [e.window_rr[e.beat_index]], type: 'scatter', mode: 'markers',
      marker: { color: '#d62728', size: 12 }, hovertemplate: 'the beat<br>RR %{y} ms<extra></extra>' },
  ], {
    margin: { l: 60, r: 20, t: 10, b: 40 }, showlegend: false,
    xaxis: { title: { text: 'beats from the explained beat (right of 0: the lookahead)' }, zeroline: false },
    yaxis: { title: { text: 'RR (ms)' } },
  }, { responsive: true, displaylogo: false });
}

// --- a URL per patient: #patient=ID (live), #recording=ID (data file); uploads are not stored, so no URL ------

function hashFor(key) {
  if (key && key.startsWith('live:')) return '#patient=' + encodeURIComponent(key.slice(5));
  if (key && key.startsWith('data:')) return '#recording=' + encodeURIComponent(key.slice(5));
  return '';
}

function keyFromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get('patient')) return 'live:' + params.get('patient');
  if (params.get('recording')) return 'data:' + params.get('recording');
  return null;
}

/** A user's choice adds a history entry (Back returns); the page's own first choice replaces the entry. */
function setHash(key, replace) {
  const hash = hashFor(key);
  if (hash === location.hash || (!hash && !location.hash)) return;
  const url = location.pathname + location.search + hash;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
}

/** Opens what a key names: a live patient or a recording (of the data file or an upload). */
function openView(key, replaceHash) {
  dashboard.autoOpen = false;
  setHash(key, replaceHash);
  if (key.startsWith('live:')) return followPatient(key.slice(5));
  return selectRecording(key);
}

/** Opens what the URL names: a promise of the view, or null when the URL names nothing. */
function openFromHash() {
  const key = keyFromHash();
  if (!key) return null;
  if (key === dashboard.current) return Promise.resolve();
  clearErrors();
  if (key.startsWith('live:') && !dashboard.liveEnabled) {
    clearView('Nothing shown', '', true);
    showError(`No live view on this server, so no patient ${key.slice(5)}: it was started without `
      + '--bootstrap-servers (bin/cardiospike demo starts one with it).');
    return Promise.resolve();
  }
  if (key.startsWith('data:') && !dashboard.recordings.some((r) => 'data:' + r.id === key)) {
    clearView('Nothing shown', '', true);
    showError(`No recording ${key.slice(5)} on this server.`);
    return Promise.resolve();
  }
  return Promise.resolve(openView(key, true));
}

// --- recordings (data file and uploads) ------------------------------------------------------------------

async function selectRecording(value) {
  stopLive();
  showError(null);
  dashboard.current = value;
  if (!value) return;
  $('recording-select').value = value;
  setLoading('recording', true);
  try {
    let rec;
    if (value.startsWith('data:')) {
      rec = await getJson('/api/v1/recordings/' + encodeURIComponent(value.slice(5)));
    } else {
      rec = structuredClone(uploads.get(value));
    }
    if (dashboard.current === value) render(withEpisodeX(rec), value);
  } catch (e) {
    if (dashboard.current === value) {
      clearView('Nothing shown', '');
      showError(`Could not load recording ${value.slice(5)}: ${e.message}`);
    }
  } finally {
    setLoading('recording', false);
  }
}

function option(value, label) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = label;
  return o;
}

/** The recording list: sorted by id, filtered by the search box; the shown recording stays selected. */
function renderRecordings() {
  const query = $('recording-search').value;
  const shown = (id) => matches(id, query);
  $('data-group').replaceChildren(...dashboard.recordings.filter((r) => shown(r.id)).map((r) => option('data:' + r.id,
    `${r.id} · ${plural(r.episodes, 'episode')} · ${plural(r.beats, 'beat')}`)));
  const uploaded = [...uploads.entries()].sort((a, b) => byId(a[0], b[0]));
  $('upload-group').replaceChildren(...uploaded.filter(([, rec]) => shown(rec.id)).map(([value, rec]) =>
    option(value, `${rec.id} · ${plural(rec.episodes.length, 'episode')} · ${plural(rec.beats, 'beat')} (${rec.file})`)));
  const any = dashboard.recordings.length + uploads.size > 0;
  $('recording-select').hidden = !any;
  $('recording-search').hidden = !any;
  $('recording-select').value = dashboard.current || '';
}

async function upload(file) {
  clearErrors();
  $('upload-status').textContent = 'scoring ' + file.name + '…';
  $('csv-upload').disabled = true;
  setLoading('upload', true);
  const form = new FormData();
  form.append('file', file);
  try {
    const res = await getJson('/api/v1/analyze', { method: 'POST', body: form });
    let first = null;
    for (const rec of res.recordings) {
      const value = 'upload:' + file.name + ':' + rec.id;
      uploads.set(value, { ...rec, file: file.name });
      first = first || value;
    }
    $('upload-status').textContent = `${plural(res.recordings.length, 'recording')} from ${file.name}`;
    $('recording-search').value = '';
    renderRecordings();
    await openView(first);
  } catch (e) {
    $('upload-status').textContent = '';
    showError(`Upload of ${file.name} failed: ${e.message}`, 'upload-error');
    clearView('Nothing shown', `The upload of ${file.name} failed: see the message under the upload control.`);
  } finally {
    setLoading('upload', false);
    $('csv-upload').disabled = false;
    $('csv-upload').value = ''; // the same file, corrected, can be chosen again
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
      if (dashboard.current !== 'live:' + s.patient_id) return;
      dashboard.live = { id: s.patient_id, time: s.ts, rr: s.rr, proba: s.proba, anomaly: s.anomaly,
        artifact: s.artifact, alerts: s.recent_alerts || [], model_version: s.model_version, alertCount: s.alerts };
      setLoading('live', false);
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
        // only the open record carries the explanation; the closed one keeps it
        if (i >= 0) l.alerts[i] = a.explanation ? a : { ...a, explanation: l.alerts[i].explanation };
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
  const epochTs = (t) => (t > 1e11 ? new Date(t) : elapsedDate(t));
  const episodes = l.alerts.map((a) => ({ start_x: epochTs(a.start_ts), end_x: epochTs(a.end_ts), beats: a.beats,
    max_proba: a.max_proba, suppressed: a.suppressed === true, explanation: a.explanation }));
  // the job explains the beat that opens an alert
  const explanationAt = (i) => (l.alerts.find((a) => a.start_ts === l.time[i]) || {}).explanation;
  render({ id: l.id, time: l.time, rr: l.rr, proba: l.proba, anomaly: l.anomaly, artifact: l.artifact, episodes,
    explanationAt, model_version: l.model_version, note: 'live, episodes are the job\'s alerts' }, 'live:' + l.id);
}

/** The patient the page opens on: the most alerts, then the first by id. */
function mostAlerts(patients) {
  return [...patients].sort((a, b) => (b.alerts - a.alerts) || byId(a.patient_id, b.patient_id))[0];
}

const patientItems = new Map(); // patient id -> its <li>, updated in place so that a click is never lost

function patientItem(id) {
  let li = patientItems.get(id);
  if (!li) {
    li = document.createElement('li');
    li.dataset.patient = id;
    li.addEventListener('click', () => openView('live:' + id));
    patientItems.set(id, li);
  }
  return li;
}

/** The live list, sorted by id whatever the server's order (most recently updated first), filtered by the search. */
function renderPatients(patients) {
  if (patients) dashboard.patientSummaries = new Map(patients.map((p) => [p.patient_id, p]));
  const all = [...(dashboard.patientSummaries || new Map()).values()].sort((a, b) => byId(a.patient_id, b.patient_id));
  dashboard.livePatients = all.map((p) => p.patient_id);
  const query = $('patient-search').value;
  const shown = all.filter((p) => matches(p.patient_id, query));
  $('live-count').textContent = all.length === 0 ? '' : plural(all.length, 'patient')
    + (shown.length < all.length ? `, ${shown.length} shown` : '');
  $('live-empty').hidden = shown.length > 0;
  $('live-empty').textContent = all.length === 0 ? 'no patients yet: the streaming job has scored no beats'
    : 'no patient id contains "' + query.trim() + '"';
  const list = $('live-patients');
  shown.forEach((p, i) => {
    const li = patientItem(p.patient_id);
    const name = document.createElement('b');
    name.textContent = p.patient_id;
    const info = document.createElement('div');
    info.className = 'muted';
    info.textContent = `${plural(p.beats, 'beat')} · ${plural(p.alerts, 'alert')}`
      + (p.held_alerts ? ` (${p.held_alerts} held)` : '');
    const parts = [name, info];
    if (p.latest_alert) {
      const a = document.createElement('div');
      const held = p.latest_alert.suppressed === true;
      a.className = held ? 'alert suppressed' : 'alert';
      a.textContent = `latest alert${held ? ' (held)' : ''}: ${plural(p.latest_alert.beats, 'beat')}, `
        + `max p ${Number(p.latest_alert.max_proba).toFixed(2)}`;
      parts.push(a);
    }
    li.replaceChildren(...parts);
    li.classList.toggle('selected', dashboard.current === 'live:' + p.patient_id);
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null); // moves only what changed place
  });
  while (list.children.length > shown.length) list.lastElementChild.remove();
  for (const id of [...patientItems.keys()]) {
    if (!dashboard.patientSummaries.has(id)) patientItems.delete(id);
  }
  if (dashboard.autoOpen && all.length > 0) openView('live:' + mostAlerts(all).patient_id, true); // nothing shown yet
}

function followPatient(id) {
  clearErrors();
  $('recording-select').value = '';
  dashboard.current = 'live:' + id;
  dashboard.live = null;
  setLoading('live', true);
  document.querySelectorAll('#live-patients li').forEach((li) =>
    li.classList.toggle('selected', li.dataset.patient === id));
  const item = patientItems.get(id);
  if (item && item.isConnected) item.scrollIntoView({ block: 'nearest' });
  connectLive(id);
}

function stopLive() {
  setLoading('live', false);
  // back to the patient list only, if the live view is on
  if (dashboard.current && dashboard.current.startsWith('live:') && dashboard.liveEnabled) connectLive(null);
  dashboard.live = null;
  document.querySelectorAll('#live-patients li.selected').forEach((li) => li.classList.remove('selected'));
}

// --- models: the live model, its shadow side by side, drift ------------------------------------------------

const MODELS_EVERY_MS = 2000;
const percent = (v) => (100 * v).toFixed(2) + ' %';
const shortVersion = (v) => (v ? v.replace(/^cs-/, '') : '–');

/** The models view from /api/v1/live/models: the latest pair of live and shadow versions, else the live model. */
function renderModels(m) {
  dashboard.models = m;
  const pair = m.shadow.length ? m.shadow[m.shadow.length - 1] : null;
  const live = m.live.length ? m.live[m.live.length - 1] : null;
  const rows = [];
  if (pair) {
    const l = pair.live, s = pair.shadow;
    rows.push(['version', shortVersion(l.model_version), shortVersion(s.model_version)],
      ['flagged beats', percent(l.flagged_rate), percent(s.flagged_rate)],
      ['mean probability', l.mean_proba.toFixed(4), s.mean_proba.toFixed(4)],
      ['episodes', l.episodes, s.episodes],
      ['only it raises', l.episodes_only_it_raises, s.episodes_only_it_raises]);
    $('models-summary').textContent = `${plural(pair.beats, 'beat')} of ${plural(pair.patients, 'patient')} `
      + 'scored by both';
    $('models-agreement').textContent = `agreement ${percent(pair.agreement)}, mean |Δp| `
      + `${pair.mean_abs_delta.toFixed(4)}; beats flagged by live only ${pair.flagged_by_live_only}, `
      + `by shadow only ${pair.flagged_by_shadow_only}`;
  } else if (live) {
    rows.push(['version', shortVersion(live.model_version), 'none'],
      ['flagged beats', percent(live.flagged_rate), ''], ['mean probability', live.mean_proba.toFixed(4), ''],
      ['alerts', live.alerts, '']);
    $('models-summary').textContent = `${plural(live.beats, 'beat')} scored; no shadow model `
      + '(job upgrade --shadow-model DIR adds one)';
    $('models-agreement').textContent = '';
  } else {
    $('models-summary').textContent = 'no beats scored yet';
    $('models-agreement').textContent = '';
  }
  $('models-table').querySelector('tbody').replaceChildren(...rows.map((r) => cells(document.createElement('tr'),
    ...r)));
  // an episode only one model raises: click to follow that patient
  $('models-examples').replaceChildren(...(pair ? pair.examples : []).map((e) => {
    const li = document.createElement('li');
    li.dataset.patient = e.patient_id;
    li.textContent = `only ${e.raised_by}: ${e.patient_id}, ${plural(e.beats, 'beat')}, max p live `
      + `${e.live_max_proba.toFixed(2)} / shadow ${e.shadow_max_proba.toFixed(2)}`;
    li.addEventListener('click', () => openView('live:' + e.patient_id));
    return li;
  }));
  $('models-drift').replaceChildren(...(m.drift.length ? m.drift.slice().reverse().map((d) => {
    const li = document.createElement('li');
    li.className = 'drift';
    li.textContent = `${clockTime(new Date(d.at))} ${d.model} ${shortVersion(d.model_version)}: `
      + `${d.statistic} PSI ${Number(d.psi).toFixed(2)} (> ${d.threshold}) over ${d.window}`;
    return li;
  }) : [Object.assign(document.createElement('li'), { className: 'muted', textContent: 'none' })]));
}

async function refreshModels() {
  try {
    renderModels(await getJson('/api/v1/live/models'));
  } catch (e) {
    $('models-summary').textContent = 'models view unavailable: ' + e.message;
  }
  setTimeout(refreshModels, MODELS_EVERY_MS);
}

// --- start -----------------------------------------------------------------------------------------------

/**
 * The first view: what the URL names; else the live view when the job has scored patients (the demo); else the
 * recording with the most episodes; else, with a live view, its first patient once one arrives.
 */
async function init() {
  clearErrors();
  dashboard.autoOpen = false;
  setLoading('recording', true);
  try {
    const health = await getJson('/health');
    dashboard.model = { version: health.model_version, threshold: health.threshold };
    $('model-version').textContent = health.model_version;
    $('model-threshold').textContent = health.threshold.toFixed(3);
    const data = await getJson('/api/v1/recordings');
    dashboard.recordings = data.recordings.slice().sort((a, b) => byId(a.id, b.id));
    $('data-source').replaceChildren(...(data.source
      ? [`${plural(data.recordings.length, 'recording')} from ${data.source}`]
      : ['No recordings on this server. Upload a CSV below, or start the server with ',
        Object.assign(document.createElement('code'), { textContent: 'bin/cardiospike serve --data FILE.csv' }),
        ' to list a file\'s recordings here.']));
    renderRecordings();
    dashboard.liveEnabled = health.live;
    let livePatients = [];
    if (health.live) {
      $('live-panel').hidden = false;
      livePatients = (await getJson('/api/v1/live/patients')).patients;
      renderPatients(livePatients);
      connectLive(null);
      $('models-panel').hidden = false;
      if (!dashboard.modelsFollowed) refreshModels(); // init runs again after a token: one loop
      dashboard.modelsFollowed = true;
    }
    setLoading('recording', false);
    const named = openFromHash();
    if (named) {
      await named;
    } else if (livePatients.length > 0) {
      openView('live:' + mostAlerts(livePatients).patient_id, true);
    } else if (dashboard.recordings.length > 0) {
      const best = [...dashboard.recordings].sort((a, b) => (b.episodes - a.episodes) || byId(a.id, b.id))[0];
      await openView('data:' + best.id, true);
    } else {
      dashboard.autoOpen = health.live; // the first patient the job scores
    }
    dashboard.ready = true;
  } catch (e) {
    setLoading('recording', false);
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
$('recording-select').addEventListener('change', (e) => { if (e.target.value) openView(e.target.value); });
$('recording-search').addEventListener('input', renderRecordings);
$('patient-search').addEventListener('input', () => renderPatients(null));
$('csv-upload').addEventListener('change', (e) => { if (e.target.files[0]) upload(e.target.files[0]); });
window.addEventListener('hashchange', () => { if (dashboard.ready) openFromHash(); });
window.addEventListener('popstate', () => { if (dashboard.ready) openFromHash(); });
init();
