// The scenario panel (municipal view): draw a place on the map (click the corners; double-click
// or Enter finishes, Escape cancels, Backspace removes the last corner) or take a square in the
// centre of the map (the keyboard way), choose a measure, compute, and read before/after as a
// table; optionally save it under a name. The map gives lon/lat; the server turns it into RD.
import { esc, getJSON, num, pct, state, t, textOn } from "./i18n.js";
import { classOf } from "./place.js";

const SOURCE = "scenario-draw";
const AFTER = "scenario-after"; // image source + raster layer: the classes with the measures
const AFTER_LAYER = "with_measures"; // its entry in the layer switcher (app.js)
const SQUARES = [50, 100, 200, 500];
let ring = null; // the finished polygon: [[lon, lat], …, first]
let corners = []; // corners while drawing
let hover = null; // the mouse position while drawing
let areas = [];
let catalogue = [];
let lastBody = null; // the last body sent (tests compare it with the API)
let lastResult = null;
let userChose = false; // keep the measure across redraws only when the user picked it

const $ = (id) => document.getElementById(id);

function features() {
  const list = [];
  const pts = ring ? ring.slice(0, -1) : corners;
  if (ring) list.push({ type: "Feature", properties: { part: "area" }, geometry: { type: "Polygon", coordinates: [ring] } });
  const line = ring ? ring : hover ? [...corners, hover] : corners;
  if (line.length >= 2) list.push({ type: "Feature", properties: { part: "edge" }, geometry: { type: "LineString", coordinates: line } });
  for (const p of pts) list.push({ type: "Feature", properties: { part: "corner" }, geometry: { type: "Point", coordinates: p } });
  return { type: "FeatureCollection", features: list };
}

function ensureLayers(map) {
  if (map.getSource(SOURCE)) return;
  map.addSource(SOURCE, { type: "geojson", data: features() });
  map.addLayer({ id: "scenario-fill", type: "fill", source: SOURCE, filter: ["==", ["get", "part"], "area"],
    paint: { "fill-color": "#01689b", "fill-opacity": 0.25 } });
  map.addLayer({ id: "scenario-edge", type: "line", source: SOURCE, filter: ["==", ["get", "part"], "edge"],
    paint: { "line-color": "#000", "line-width": 2.5, "line-dasharray": [2, 1] } });
  map.addLayer({ id: "scenario-corner", type: "circle", source: SOURCE, filter: ["==", ["get", "part"], "corner"],
    paint: { "circle-radius": 5, "circle-color": "#fff", "circle-stroke-color": "#000", "circle-stroke-width": 2 } });
}

function redraw() {
  const map = window.bst.map;
  if (!map.isStyleLoaded() && !map.getSource(SOURCE)) { map.once("idle", redraw); return; }
  ensureLayers(map);
  map.getSource(SOURCE).setData(features());
}

function say(text, kind = "") {
  const el = $("scenario-status");
  el.textContent = text;
  el.className = `status ${kind}`;
}

// Square of about n × n m around the map centre (metres to degrees at this latitude).
function centreSquare(n) {
  const c = window.bst.map.getCenter();
  const dLat = n / 2 / 111320;
  const dLon = n / 2 / (111320 * Math.cos((c.lat * Math.PI) / 180));
  return [[c.lng - dLon, c.lat - dLat], [c.lng + dLon, c.lat - dLat], [c.lng + dLon, c.lat + dLat],
    [c.lng - dLon, c.lat + dLat], [c.lng - dLon, c.lat - dLat]];
}

function startDrawing() {
  const map = window.bst.map;
  ring = null;
  corners = [];
  hover = null;
  state.drawing = true;
  state.viewName = "scenario";
  map.doubleClickZoom.disable();
  map.getCanvas().style.cursor = "crosshair";
  $("scenario-draw").setAttribute("aria-pressed", "true");
  say(t("scenDrawHelp"));
  clearResult();
  redraw();
}

function stopDrawing() {
  const map = window.bst.map;
  state.drawing = false;
  hover = null;
  map.getCanvas().style.cursor = "";
  $("scenario-draw").setAttribute("aria-pressed", "false");
  setTimeout(() => map.doubleClickZoom.enable(), 400); // after the finishing double-click
}

function finishDrawing() {
  const map = window.bst.map;
  // A double-click also gives two clicks: drop corners closer than 4 px to the one before.
  const kept = [];
  for (const p of corners) {
    const prev = kept[kept.length - 1];
    if (prev) {
      const a = map.project(prev);
      const b = map.project(p);
      if (Math.hypot(a.x - b.x, a.y - b.y) < 4) continue;
    }
    kept.push(p);
  }
  if (kept.length < 3) { say(t("scenTooFew"), "error"); return; }
  stopDrawing();
  setPolygon([...kept, kept[0]]);
  $("scenario-draw").focus();
}

function cancelDrawing() {
  stopDrawing();
  corners = [];
  redraw();
  say(t("scenCancelled"));
  $("scenario-draw").focus();
}

// Area in m² of a lon/lat ring (equirectangular at its mean latitude; for the status line only).
function roughArea(r) {
  const lat0 = (r.reduce((s, p) => s + p[1], 0) / r.length) * (Math.PI / 180);
  const xy = r.map(([lon, lat]) => [lon * 111320 * Math.cos(lat0), lat * 110574]);
  let sum = 0;
  for (let i = 0; i < xy.length - 1; i++) sum += xy[i][0] * xy[i + 1][1] - xy[i + 1][0] * xy[i][1];
  return Math.abs(sum / 2);
}

function areaOf(lon, lat) {
  const inside = (a) => a.bounds_wgs84[0] <= lon && lon <= a.bounds_wgs84[2] && a.bounds_wgs84[1] <= lat && lat <= a.bounds_wgs84[3];
  if (state.current && inside(state.current)) return state.current;
  return areas.filter(inside).sort((a, b) => (a.cell_size || 10) - (b.cell_size || 10))[0] || state.current;
}

async function setPolygon(r) {
  ring = r;
  corners = [];
  redraw();
  state.viewName = "scenario";
  const m2 = roughArea(r);
  say(t("scenDrawn").replace("{n}", r.length - 1).replace("{a}", Math.round(m2).toLocaleString(state.lang === "nl" ? "nl-NL" : "en-GB")));
  $("scenario-compute").disabled = false;
  await fillMeasures();
}

async function fillMeasures() {
  const select = $("scenario-measure");
  const chosen = userChose ? select.value : "";
  let recommended = [];
  if (ring) {
    const pts = ring.slice(0, -1);
    const lon = pts.reduce((s, p) => s + p[0], 0) / pts.length;
    const lat = pts.reduce((s, p) => s + p[1], 0) / pts.length;
    try {
      const a = await getJSON(`/api/recommend?x=${lon}&y=${lat}&crs=EPSG:4326&lang=${state.lang}`);
      recommended = a.recommendations.slice(0, 6);
    } catch { /* outside the loaded areas: the catalogue stays */ }
  }
  if (!catalogue.length || catalogue.lang !== state.lang) {
    const c = await getJSON(`/api/measures?lang=${state.lang}`);
    catalogue = c.measures;
    catalogue.lang = state.lang;
  }
  const option = (m) => `<option value="${esc(m.key)}">${esc(m.name)}</option>`;
  select.innerHTML = (recommended.length ? `<optgroup data-kind="recommended" label="${esc(t("scenRecommended"))}">${recommended.map(option).join("")}</optgroup>` : "") +
    `<optgroup label="${esc(t("scenCatalogue"))}">${catalogue.map(option).join("")}</optgroup>`;
  if (chosen && [...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

function clearResult() {
  $("scenario-result").innerHTML = "";
  $("scenario-save").hidden = true;
  const hadResult = lastResult !== null;
  lastResult = null;
  removeOverlay();
  if (hadResult) window.bst.setScenarioLayer(false);
}

// The "met maatregelen" overlay: the server's palette PNG of the recomputed window, stretched
// between its four WGS84 corners (close to affine for a window of a few km; see measures/overlay.py).
function removeOverlay() {
  const map = window.bst.map;
  if (map.getLayer(AFTER)) map.removeLayer(AFTER);
  if (map.getSource(AFTER)) map.removeSource(AFTER);
}

function addOverlay() {
  const map = window.bst.map;
  const overlay = lastResult && lastResult.result.overlay;
  if (!overlay || map.getSource(AFTER)) return;
  map.addSource(AFTER, { type: "image", url: `data:image/png;base64,${overlay.png_base64}`, coordinates: overlay.coordinates });
  map.addLayer({ id: AFTER, type: "raster", source: AFTER, metadata: { title: "Met maatregelen / With measures" },
    paint: { "raster-opacity": 0.9, "raster-resampling": "nearest", "raster-fade-duration": 0 } },
  map.getLayer("scenario-edge") ? "scenario-edge" : undefined); // over the tinted place, under its outline
}

// Show the overlay when the layer switcher is on "with measures"; keep the panel's toggle in step.
function syncOverlay() {
  const map = window.bst.map;
  const after = window.bst.state.layer === AFTER_LAYER && lastResult !== null;
  if (after) addOverlay();
  if (map.getLayer(AFTER)) map.setLayoutProperty(AFTER, "visibility", after ? "visible" : "none");
  for (const input of document.querySelectorAll("input[name=scenario-map]")) input.checked = (input.value === "after") === after;
}

function showAfter(on) {
  window.bst.selectLayer(on ? AFTER_LAYER : "score");
}

const signed = (v, d = 3) => (v === null || v === undefined ? "–" : `${v > 0 ? "+" : v < 0 ? "−" : "±"}${Math.abs(v).toFixed(d)}`);
const diff = (a, b) => (a === null || a === undefined || b === null || b === undefined ? null : b - a);

function classBadge(value) {
  const k = classOf(value);
  const c = state.legend.classes.find((x) => x.value === k);
  if (!c) return "";
  const label = `${t("cls").toLowerCase()} ${k}: ${state.lang === "nl" ? c.label_nl : c.label_en}`;
  return ` <span class="swatch" style="background:${c.colour};color:${textOn(c.colour)}" title="${esc(label)}" aria-hidden="true">${k}</span><span class="visually-hidden">${esc(label)}</span>`;
}

function row(key, label, before, after, fmt, withClass = false) {
  const b = fmt(before);
  const a = fmt(after);
  const d = diff(before, after);
  return `<tr data-row="${key}"><th scope="row">${esc(label)}</th>
    <td data-value="${before ?? ""}">${b}${withClass ? classBadge(before) : ""}</td>
    <td data-value="${after ?? ""}">${a}${withClass ? classBadge(after) : ""}</td>
    <td data-value="${d ?? ""}">${fmt === pct ? (d === null ? "–" : `${signed(100 * d, 1)} %`) : signed(d, fmt === mm ? 1 : 3)}</td></tr>`;
}

const mm = (v) => (v === null || v === undefined ? "–" : `${num(v, 1)} mm`);
const plain = (v) => num(v, 3);

function euros(v) {
  return Number(v).toLocaleString(state.lang === "nl" ? "nl-NL" : "en-GB", { maximumFractionDigits: 0 });
}

function renderResult(data, ms) {
  const r = data.result;
  const s = r.score;
  const c = r.components;
  const rows = [
    row("score_place", t("scenScorePlace"), s.place.before, s.place.after, plain, true),
    row("score_window", t("scenScoreWindow").replace("{n}", s.window.cells), s.window.before, s.window.after, plain, true),
    row("score_area", t("scenScoreArea"), s.area.before, s.area.after, plain, true),
    row("habitat_quality", t("scenHabitat"), c.habitat_quality.place_before, c.habitat_quality.place_after, plain),
    row("surface_factor", t("scenSurface"), c.surface_factor.place_before, c.surface_factor.place_after, plain),
    row("connectivity", t("scenConnectivity"), c.connectivity.window_before, c.connectivity.window_after, plain),
    row("cooling", t("scenCooling"), r.cooling.cooling_capacity_place.before, r.cooling.cooling_capacity_place.after, plain),
    row("canopy", t("scenCanopy"), r.cooling.canopy_share_place.before, r.cooling.canopy_share_place.after, pct),
  ];
  for (const e of r.water.events) {
    const name = state.lang === "nl" ? e.name_nl : e.name_en;
    const [low, high] = e.kept_mm_after;
    const afterText = low === high ? mm(low) : `${mm(low)} – ${mm(high)}`;
    rows.push(`<tr data-row="water-${esc(e.event)}"><th scope="row">${esc(t("scenWater"))}: ${esc(name)}</th>
      <td data-value="${e.kept_mm_before}">${mm(e.kept_mm_before)}</td><td data-value="${low}">${afterText}</td>
      <td data-value="${low - e.kept_mm_before}">${signed(low - e.kept_mm_before, 1)} mm</td></tr>`);
  }
  const [low, high] = r.cost.total_eur;
  const partial = r.cost.partial.length ? ` ${t("scenCostPartial")}` : "";
  const unknown = r.cost.unknown.length ? ` ${t("scenCostUnknown")}: ${r.cost.unknown.join(", ")}.` : "";
  $("scenario-result").innerHTML = `
    <fieldset class="scenario-map">
      <legend>${esc(t("scenMap"))}</legend>
      <label><input type="radio" name="scenario-map" value="before"> ${esc(t("scenMapBefore"))}</label>
      <label><input type="radio" name="scenario-map" value="after"> ${esc(t("scenMapAfter"))}</label>
    </fieldset>
    <div class="table-scroll" tabindex="0" role="group" aria-labelledby="scenario-caption">
    <table class="values scenario-table">
      <caption id="scenario-caption">${esc(t("scenCaption"))}</caption>
      <thead><tr><th scope="col">${esc(t("scenWhat"))}</th><th scope="col">${esc(t("scenBefore"))}</th><th scope="col">${esc(t("scenAfter"))}</th><th scope="col">${esc(t("scenDelta"))}</th></tr></thead>
      <tbody>${rows.join("")}</tbody>
    </table></div>
    <p class="scenario-cost" data-low="${low}" data-high="${high}">${esc(t("scenCost"))}: € ${euros(low)} – € ${euros(high)}.${esc(partial)}${esc(unknown)}
      ${esc(t("scenYears").replace("{n}", r.years_to_full_effect))}</p>
    <p class="note">${esc(t("scenNote"))} <small>(${esc(t("scenSeconds").replace("{s}", (ms / 1000).toFixed(1)))})</small></p>`;
  $("scenario-save").hidden = false;
  for (const input of document.querySelectorAll("input[name=scenario-map]")) input.addEventListener("change", () => showAfter(input.value === "after"));
  syncOverlay();
}

async function post(body) {
  const answer = await fetch("/api/scenarios", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await answer.json().catch(() => ({}));
  return { status: answer.status, data };
}

function body(save, name) {
  const pts = ring.slice(0, -1);
  const lon = pts.reduce((s, p) => s + p[0], 0) / pts.length;
  const lat = pts.reduce((s, p) => s + p[1], 0) / pts.length;
  const area = areaOf(lon, lat);
  return {
    area: area ? area.code : "", name, save, crs: "EPSG:4326",
    places: [{ measure: $("scenario-measure").value, geojson: { type: "Polygon", coordinates: [ring] } }],
  };
}

async function compute() {
  if (!ring) { say(t("scenNoPlace"), "error"); return; }
  state.viewName = "scenario";
  const sent = body(false, "proef");
  lastBody = sent;
  say(t("scenComputing"));
  $("scenario-compute").disabled = true;
  const started = performance.now();
  const { status, data } = await post(sent);
  const ms = performance.now() - started;
  $("scenario-compute").disabled = false;
  if (status !== 200) {
    clearResult();
    say(`${t("scenFailed")}: ${data.message || status}${data.hint ? ` (${data.hint})` : ""}`, "error");
    return;
  }
  lastResult = data;
  $("scenario").dataset.ms = String(Math.round(ms));
  removeOverlay(); // a new result: a new image
  window.bst.setScenarioLayer(true);
  renderResult(data, ms);
  showAfter(true);
  say(t("scenDone"));
}

async function save(e) {
  e.preventDefault();
  const name = $("scenario-name").value.trim().toLowerCase();
  const status = $("scenario-save-status");
  if (!/^[a-z0-9_-]{1,64}$/.test(name)) { status.textContent = t("scenNameRule"); $("scenario-name").focus(); return; }
  status.textContent = t("scenSaving");
  const { status: code, data } = await post(body(true, name));
  if (code === 200) status.textContent = t("scenSaved").replace("{n}", name);
  else if (code === 409) status.textContent = t("scenTaken").replace("{n}", name);
  else if (code === 401 || code === 403) status.textContent = t("scenNoRight");
  else status.textContent = `${t("scenFailed")}: ${data.message || code}`;
}

function panelHtml() {
  return `
    <p>${esc(t("scenIntro"))}</p>
    <div class="scenario-controls">
      <button id="scenario-draw" type="button" class="utrecht-button utrecht-button--secondary-action" aria-pressed="false">${esc(t("scenDraw"))}</button>
      <div class="scenario-square">
        <label for="scenario-size">${esc(t("scenSquare"))}</label>
        <select id="scenario-size" class="utrecht-select">${SQUARES.map((n) => `<option value="${n}"${n === 100 ? " selected" : ""}>${n} × ${n} m</option>`).join("")}</select>
        <button id="scenario-square" type="button" class="utrecht-button utrecht-button--secondary-action">${esc(t("scenUseSquare"))}</button>
      </div>
      <label for="scenario-measure">${esc(t("scenMeasure"))}</label>
      <select id="scenario-measure" class="utrecht-select"></select>
      <button id="scenario-compute" type="button" class="utrecht-button utrecht-button--primary-action" disabled>${esc(t("scenCompute"))}</button>
    </div>
    <p id="scenario-status" class="status" role="status"></p>
    <div id="scenario-result"></div>
    <form id="scenario-save" class="scenario-save" hidden>
      <label for="scenario-name">${esc(t("scenName"))}</label>
      <input id="scenario-name" class="utrecht-textbox" type="text" maxlength="64" autocomplete="off" aria-describedby="scenario-name-rule">
      <p id="scenario-name-rule" class="note">${esc(t("scenNameRule"))}</p>
      <button type="submit" class="utrecht-button utrecht-button--secondary-action">${esc(t("scenSave"))}</button>
      <p id="scenario-save-status" class="status" role="status"></p>
    </form>`;
}

function mountPanel() {
  window.bst.slots.scenario.show(panelHtml());
  $("scenario-draw").addEventListener("click", () => (state.drawing ? cancelDrawing() : startDrawing()));
  $("scenario-square").addEventListener("click", () => {
    if (state.drawing) stopDrawing();
    clearResult();
    setPolygon(centreSquare(Number($("scenario-size").value)));
  });
  $("scenario-compute").addEventListener("click", compute);
  $("scenario-measure").addEventListener("change", () => { userChose = true; clearResult(); });
  $("scenario-save").addEventListener("submit", save);
  $("scenario").addEventListener("focusin", () => { if (!state.comparisonOpen) state.viewName = "scenario"; });
}

export async function setUpScenario() {
  const map = window.bst.map;
  areas = await getJSON("/api/gemeenten").catch(() => []);
  mountPanel();
  fillMeasures().catch(() => {});
  map.on("click", (e) => {
    if (!state.drawing) return;
    corners.push([e.lngLat.lng, e.lngLat.lat]);
    say(t("scenCorners").replace("{n}", corners.length));
    redraw();
  });
  map.on("mousemove", (e) => { if (state.drawing && corners.length) { hover = [e.lngLat.lng, e.lngLat.lat]; redraw(); } });
  map.on("dblclick", (e) => { if (state.drawing) { e.preventDefault(); finishDrawing(); } });
  map.on("idle", () => { if ((ring || corners.length) && !map.getSource(SOURCE)) redraw(); });
  document.addEventListener("keydown", (e) => {
    if (!state.drawing) return;
    if (e.key === "Enter") { e.preventDefault(); finishDrawing(); }
    else if (e.key === "Escape") { e.preventDefault(); cancelDrawing(); }
    else if (e.key === "Backspace" && corners.length && document.activeElement.tagName !== "INPUT") {
      e.preventDefault(); corners.pop(); redraw(); say(t("scenCorners").replace("{n}", corners.length));
    }
  });
  document.getElementById("lang").addEventListener("click", () => {
    const keep = { size: $("scenario-size").value, measure: $("scenario-measure").value, name: $("scenario-name").value };
    mountPanel();
    $("scenario-size").value = keep.size;
    $("scenario-name").value = keep.name;
    $("scenario-compute").disabled = !ring;
    fillMeasures().then(() => { if ([...$("scenario-measure").options].some((o) => o.value === keep.measure)) $("scenario-measure").value = keep.measure; });
    if (lastResult) renderResult(lastResult, Number($("scenario").dataset.ms || 0));
  });
  document.addEventListener("bst:layer", syncOverlay);
  window.bst.scenario = {
    setPolygon, compute, showAfter, lastBody: () => lastBody, lastResult: () => lastResult,
    polygon: () => ring,
  };
}
