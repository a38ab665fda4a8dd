// The map page: gemeente → wijk → buurt → cell, or a study area; a layer switcher with a story
// for each layer, a buurt comparison, feedback, search and downloads. Dutch and English.
import * as maplibregl from "maplibre-gl";
import { esc, getJSON, layerTitle, num, pct, state, t, textOn } from "./i18n.js";
import { renderStory, setUpStory } from "./story.js";
import { mountFeedback } from "./feedback.js";
import { refreshComparison, setUpComparison } from "./comparison.js";
import { setUpPlace } from "./place.js";
import { setUpScenario } from "./scenario.js";

// Map layers: the class of the stress test, components per area unit, and the cell rasters.
const LAYERS = [
  { id: "score", kind: "class" },
  { id: "habitat_quality", kind: "value", max: 1 },
  { id: "baf", kind: "value", max: 1 },
  { id: "ugf", kind: "value", max: 1 },
  { id: "green_share", kind: "value", max: 1 },
  { id: "natura2000_share", kind: "value", max: 1 },
  { id: "vulnerability", kind: "value", max: 1, worse: true },
  { id: "distance_to_core", kind: "value", max: 5000, worse: true },
  { id: "landcover", kind: "raster" },
  { id: "confidence", kind: "raster" },
];
const LEVELS = {
  gemeente: [
    { id: "gemeente", minzoom: 0, maxzoom: 10 },
    { id: "wijk", minzoom: 10, maxzoom: 12 },
    { id: "buurt", minzoom: 12, maxzoom: 24 },
  ],
  gebied: [{ id: "gebied", minzoom: 0, maxzoom: 24 }],
};
const CONFIDENCE_COLOURS = { 1: "#fdae61", 2: "#fee08b", 3: "#66bd63", 4: "#1a9850" };
const FEATURE_STYLES = {
  bermen: { type: "line", paint: { "line-color": "#e6007e", "line-width": 2 } },
  bos: { type: "line", paint: { "line-color": "#004d1a", "line-width": 2 } },
  water: { type: "line", paint: { "line-color": "#0057b8", "line-width": 2 } },
  erf: { type: "line", paint: { "line-color": "#8a5a00", "line-width": 1.5 } },
  hagen: { type: "line", paint: { "line-color": "#2d7d00", "line-width": 3 } },
  bomen: { type: "circle", paint: { "circle-color": "#1b5e20", "circle-radius": 3, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
  straatnamen: { type: "circle", paint: { "circle-color": "#fff", "circle-radius": 4, "circle-stroke-color": "#000", "circle-stroke-width": 2 } },
};

let sourcesLine = "";
let landcoverInfo = null;
let runLayers = []; // cell layers the run published (/api/layers): potential, climate, …
// "Met maatregelen": the classes after a computed scenario (scenario.js draws it), while one is shown.
const SCENARIO_LAYER = { id: "with_measures", kind: "class", scenario: true };
let scenarioLayer = null;
const allLayers = () => [...LAYERS, ...runLayers, ...(scenarioLayer ? [scenarioLayer] : [])];
const layerDef = () => allLayers().find((l) => l.id === state.layer) || LAYERS[0];
const ha = (m2) => `${(m2 / 10000).toLocaleString(state.lang, { maximumFractionDigits: 2 })} ha`;
const colours = () => state.legend.classes.map((c) => c.colour);

function fillExpression() {
  const def = layerDef();
  if (def.kind === "class") {
    const expr = ["match", ["get", "score_class"]];
    for (const c of state.legend.classes) expr.push(c.value, c.colour);
    return [...expr, "rgba(0,0,0,0)"];
  }
  // Seven equal steps over 0..max; red = poor, green = good (reversed where higher is worse).
  const ramp = def.worse ? [...colours()].reverse() : colours();
  const expr = ["step", ["to-number", ["get", def.id], -1], "rgba(0,0,0,0)", 0, ramp[0]];
  for (let i = 1; i < 7; i++) expr.push((def.max * i) / 7, ramp[i]);
  return expr;
}

function swatch(colour, text = "") {
  return `<span class="swatch" style="background:${colour};color:${textOn(colour)}">${esc(text)}</span>`;
}

function renderLegend() {
  const title = document.getElementById("legend-title");
  const note = document.querySelector("[data-i18n=legendNote]");
  const list = document.getElementById("legend");
  const def = layerDef();
  list.innerHTML = "";
  note.hidden = def.kind !== "class";
  const add = (html) => { const li = document.createElement("li"); li.innerHTML = html; list.appendChild(li); return li; };
  if (def.kind === "class") {
    title.textContent = t("legend");
    for (const c of state.legend.classes) {
      add(`${swatch(c.colour, c.value)}<span>${esc(state.lang === "nl" ? c.label_nl : c.label_en)}</span>`).dataset.class = c.value;
    }
  } else if (def.kind === "value") {
    title.textContent = `${layerTitle(def.id)} (${t("legendValue")}${def.worse ? `, ${t("worse")}` : ""})`;
    const ramp = def.worse ? [...colours()].reverse() : colours();
    const digits = def.max > 10 ? 0 : 2;
    for (let i = 0; i < 7; i++) {
      add(`${swatch(ramp[i], def.worse ? 7 - i : i + 1)}<span>${num((def.max * i) / 7, digits)} – ${num((def.max * (i + 1)) / 7, digits)}</span>`);
    }
  } else if (def.legend) {
    title.textContent = layerTitle(def.id);
    for (const e of def.legend) {
      const label = state.lang === "nl" ? e.label_nl : e.label_en;
      add(`${swatch(e.colour, def.rampKind === "ramp" ? "" : String(e.value ?? ""))}<span>${esc(label)}</span>`);
    }
  } else if (def.id === "landcover" && landcoverInfo) {
    title.textContent = t("legendLandcover");
    for (const c of landcoverInfo.classes) add(`${swatch(c.colour)}<span>${esc(state.lang === "nl" ? c.name_nl : c.name_en)}: ${ha(c.m2)}</span>`);
  } else if (def.id === "confidence" && landcoverInfo) {
    title.textContent = t("legendConfidence");
    for (const c of landcoverInfo.confidence) {
      add(`${swatch(CONFIDENCE_COLOURS[c.level] || "#ffffff", c.level)}<span>${esc(state.lang === "nl" ? c.label_nl : c.label_en)}: ${pct(c.share)}</span>`);
    }
  }
}

function renderLayerSwitcher(map) {
  const box = document.getElementById("layer-switcher");
  box.querySelectorAll("label").forEach((el) => el.remove());
  for (const def of allLayers()) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="radio" name="view" value="${def.id}"${def.id === state.layer ? " checked" : ""}> <span>${esc(layerTitle(def.id))}</span>`;
    label.querySelector("input").addEventListener("change", () => { state.layer = def.id; applyView(map); });
    box.appendChild(label);
  }
}

function renderTexts(map) {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  const button = document.getElementById("lang");
  button.textContent = t("other");
  button.setAttribute("lang", t("otherLang"));
  document.getElementById("map").setAttribute("aria-label", t("map"));
  document.getElementById("panel").setAttribute("aria-label", t("panel"));
  renderLayerSwitcher(map);
  renderLegend();
  if (document.getElementById("story-dialog").open) renderStory(state.layer);
  refreshComparison();
}

function renderSources(inputs) {
  sourcesLine = inputs.map((s) => `${s.publisher} (${s.licence})`).join("; ");
  document.getElementById("sources").innerHTML =
    inputs.map((s) => `<li>${esc(s.title)}: ${esc(s.publisher)}, ${esc(s.licence)}</li>`).join("");
}

function renderDownloads(area) {
  const layers = [...LEVELS[area.kind === "gemeente" ? "gemeente" : "gebied"].map((l) => l.id), ...(area.feature_layers || [])];
  document.getElementById("downloads").innerHTML = layers.map((layer) =>
    `<li>${esc(t(layer))}: ${["gpkg", "geojson", "csv"].map((f) =>
      `<a class="utrecht-link" href="/api/export/${encodeURIComponent(area.code)}/${encodeURIComponent(layer)}.${f}" download>${f === "gpkg" ? "GeoPackage" : f === "geojson" ? "GeoJSON" : "CSV"}</a>`).join(" · ")}</li>`).join("");
}

const sourceNote = () => `<p class="popup-sources"><small>${t("sources")}: ${esc(sourcesLine)}</small></p>`;

function areaTable(p) {
  return `<strong>${esc(p.name)}</strong> <small>(${esc(p.code)}, ${esc(p.level)})</small>
    <table class="values">
      <tr><th>${t("cls")}</th><td>${esc(p.score_class)}</td></tr>
      <tr><th>${t("score")}</th><td>${p.score === null ? "–" : Number(p.score).toFixed(3)}</td></tr>
      <tr><th>${t("green")}</th><td>${pct(p.green_share)}</td></tr>
      <tr><th>${t("n2k")}</th><td>${pct(p.natura2000_share)}</td></tr>
      <tr><th>${t("baf")}</th><td>${num(p.baf)}</td></tr>
      <tr><th>${t("ugf")}</th><td>${num(p.ugf)}</td></tr>
      <tr><th>${t("hq")}</th><td>${num(p.habitat_quality)}</td></tr>
      ${p.groenkaart_nodata_share === undefined ? "" : `<tr><th>${t("nodata")}</th><td>${pct(p.groenkaart_nodata_share)}</td></tr>`}
      ${p.inwoners === undefined ? "" : `<tr><th>${t("inhabitants")}</th><td>${p.inwoners ?? "–"}</td></tr>`}
    </table>${sourceNote()}`;
}

async function cellTable(lngLat) {
  try {
    const a = await getJSON(`/api/explain?x=${lngLat.lng}&y=${lngLat.lat}&crs=EPSG:4326`);
    const size = a.cell_size_m ? `${a.cell_size_m} × ${a.cell_size_m} m` : "";
    const name = (o) => (state.lang === "nl" ? o.title_nl || o.name_nl : o.title_en || o.name_en);
    const rows = [...a.components, ...a.context].map((c) =>
      `<tr><th>${esc(name(c))}</th><td>${c.unit.startsWith("fraction") ? pct(c.value) : num(c.value)}</td></tr>`).join("");
    const why = a.components.map((c) => `${esc(name(c)).toLowerCase()}<sup>${c.weight}</sup>`).join(" · ");
    const lc = a.landcover
      ? `<tr><th>${t("landcover")}</th><td>${esc(name(a.landcover))}</td></tr>
         <tr><th>${t("confidenceShort")}</th><td>${esc(state.lang === "nl" ? a.landcover.confidence.label_nl : a.landcover.confidence.label_en)}</td></tr>`
      : "";
    return `<strong>${t("cell")} ${size}</strong> <small>RD ${a.x.toFixed(0)}, ${a.y.toFixed(0)} · ${esc(a.area.name)}</small>
      <table class="values">
        <tr><th>${t("cls")}</th><td>${esc(a.score.class)} (${esc(state.lang === "nl" ? a.score.label_nl : a.score.label_en)})</td></tr>
        <tr><th>${t("score")}</th><td>${num(a.score.value)}</td></tr>
        ${rows}${lc}
      </table>
      <p class="why"><small>${t("why")}: ${t("score").toLowerCase()} = ${why}</small></p>${sourceNote()}`;
  } catch {
    return t("noData");
  }
}

const levelsOf = (area) => LEVELS[area.kind] || LEVELS.gemeente;

function removeAreaLayers(map) {
  for (const layer of map.getStyle().layers) if (layer.id !== "bg" && layer.id !== "basemap") map.removeLayer(layer.id);
  for (const id of Object.keys(map.getStyle().sources)) if (id !== "basemap") map.removeSource(id);
}

function addAreaLayers(map, area) {
  const levels = levelsOf(area);
  for (const level of levels) {
    map.addSource(level.id, {
      type: "vector",
      tiles: [`${location.origin}/tiles/${area.code}/${level.id}/{z}/{x}/{y}.mvt`],
      minzoom: level.id === "gemeente" || level.id === "gebied" ? 5 : 8,
      maxzoom: level.id === "gemeente" ? 13 : level.id === "wijk" ? 14 : 15,
      attribution: area.kind === "gemeente" ? "CBS / Kadaster (CC BY 4.0)" : "BGT (CC0)",
    });
  }
  for (const layer of ["score_class", "landcover", "confidence"]) {
    map.addSource(`cells-${layer}`, {
      type: "raster", tiles: [`${location.origin}/tiles/${area.code}/cells/${layer}/{z}/{x}/{y}.png`],
      tileSize: 256, minzoom: 8, maxzoom: area.cell_size && area.cell_size < 5 ? 21 : 19,
    });
  }
  const areaFill = layerDef().kind !== "raster";
  for (const level of levels) {
    map.addLayer({
      id: `${level.id}-fill`, type: "fill", source: level.id, "source-layer": level.id,
      minzoom: level.minzoom, maxzoom: level.id === "gebied" ? 14 : level.maxzoom,
      layout: { visibility: areaFill ? "visible" : "none" },
      paint: { "fill-color": fillExpression(), "fill-opacity": 0.75 },
    });
  }
  map.addLayer({ id: "cells", type: "raster", source: "cells-score_class", minzoom: 14,
    layout: { visibility: state.layer === "score" && document.getElementById("show-cells").checked ? "visible" : "none" },
    paint: { "raster-opacity": 0.85 } });
  for (const layer of ["landcover", "confidence"]) {
    map.addLayer({ id: `cells-${layer}`, type: "raster", source: `cells-${layer}`,
      layout: { visibility: state.layer === layer ? "visible" : "none" }, paint: { "raster-opacity": 0.9 } });
  }
  for (const level of levels) {
    map.addLayer({
      id: `${level.id}-line`, type: "line", source: level.id, "source-layer": level.id,
      minzoom: level.id === "gemeente" || level.id === "gebied" ? 0 : level.minzoom,
      paint: { "line-color": "#222", "line-width": level.id === "gemeente" || level.id === "gebied" ? 2.5 : 1 },
    });
  }
}

function renderFeatureToggles(map, area) {
  const box = document.getElementById("feature-layers");
  box.innerHTML = "";
  box.hidden = !(area.feature_layers && area.feature_layers.length);
  if (box.hidden) return;
  box.innerHTML = `<legend data-i18n="features">${esc(t("features"))}</legend>`;
  for (const name of area.feature_layers) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" value="${esc(name)}"> <span data-i18n="${esc(name)}">${esc(t(name))}</span>`;
    label.querySelector("input").addEventListener("change", (e) => toggleFeatures(map, area, name, e.target.checked));
    box.appendChild(label);
  }
}

function toggleFeatures(map, area, name, on) {
  const id = `features-${name}`;
  if (!map.getSource(id)) {
    if (!on) return;
    map.addSource(id, { type: "geojson", data: `/api/features?area=${encodeURIComponent(area.code)}&layer=${encodeURIComponent(name)}` });
    map.addLayer({ id, source: id, ...FEATURE_STYLES[name] });
  }
  map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
}

function applyView(map) {
  const def = layerDef();
  for (const level of levelsOf(state.current)) {
    map.setLayoutProperty(`${level.id}-fill`, "visibility", def.kind !== "raster" ? "visible" : "none");
    map.setPaintProperty(`${level.id}-fill`, "fill-color", fillExpression());
  }
  const cells = state.layer === "score" && document.getElementById("show-cells").checked;
  map.setLayoutProperty("cells", "visibility", cells ? "visible" : "none");
  for (const layer of ["landcover", "confidence"]) map.setLayoutProperty(`cells-${layer}`, "visibility", state.layer === layer ? "visible" : "none");
  for (const extra of runLayers) {
    const id = `cells-${extra.id}`;
    if (state.layer === extra.id && !map.getLayer(id)) {
      map.addSource(id, { type: "raster", tiles: [`${location.origin}/tiles/${state.current.code}/cells/${extra.id}/{z}/{x}/{y}.png`], tileSize: 256, minzoom: 8, maxzoom: 19 });
      map.addLayer({ id, type: "raster", source: id, paint: { "raster-opacity": 0.85 } }, map.getLayer("buurt-line") ? "buurt-line" : undefined);
    }
    if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", state.layer === extra.id ? "visible" : "none");
  }
  renderLegend();
  document.dispatchEvent(new CustomEvent("bst:layer", { detail: state.layer })); // scenario.js shows its overlay
}

const popup = new maplibregl.Popup({ maxWidth: "300px" });

async function showArea(map, area, fit) {
  state.current = area;
  window.bst.ready = false;
  document.getElementById("gemeente-name").textContent = `${area.name} (${area.code})`;
  document.getElementById("comparison-open").hidden = area.kind !== "gemeente";
  renderSources(area.inputs);
  renderDownloads(area);
  landcoverInfo = await getJSON(`/api/landcover?area=${encodeURIComponent(area.code)}`).catch(() => null);
  const published = await getJSON(`/api/layers?area=${encodeURIComponent(area.code)}`).catch(() => ({ layers: [] }));
  const shown = new Set([...LAYERS.map((l) => l.id), "score_class"]);
  runLayers = published.layers.filter((l) => !shown.has(l.id)).map((l) => ({ ...l, kind: "raster", rampKind: l.kind }));
  for (const l of runLayers) if (!state.stories[l.id] && state.stories[l.story]) state.stories[l.id] = state.stories[l.story];
  if (!allLayers().some((l) => l.id === state.layer)) state.layer = "score";
  renderLayerSwitcher(map);
  removeAreaLayers(map);
  addAreaLayers(map, area);
  applyView(map);
  renderFeatureToggles(map, area);
  document.getElementById("info").innerHTML = `<p>${esc(t("clickHint"))}</p>`;
  popup.remove();
  renderLegend();
  refreshComparison();
  if (fit) map.fitBounds(area.bounds_wgs84, { padding: 20, duration: 0 });
  map.once("idle", () => { window.bst.ready = true; });
}

function setUpSearch(map, areas, select) {
  const form = document.getElementById("search-form");
  const list = document.getElementById("search-results");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const q = document.getElementById("search").value.trim();
    if (!q) return;
    const answer = await getJSON(`/api/search?q=${encodeURIComponent(q)}`);
    list.innerHTML = "";
    list.hidden = false;
    if (!answer.places.length) {
      list.innerHTML = `<li><button type="button" disabled>${esc(t("noMatch"))}${answer.online === "ok" ? "" : ` (${esc(t("searchOffline"))})`}</button></li>`;
      return;
    }
    for (const place of answer.places) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.innerHTML = `${esc(place.name)} <span class="kind">(${esc(place.type)}, ${esc(place.code)})</span>`;
      button.addEventListener("click", async () => {
        list.hidden = true;
        const loaded = areas.find((a) => a.code === place.gemeente);
        if (loaded && (!state.current || state.current.code !== place.gemeente)) {
          select.value = place.gemeente;
          await showArea(map, loaded, false);
        }
        map.fitBounds(place.bbox_wgs84, { padding: 30, duration: 0 });
        document.getElementById("map").querySelector("canvas").focus();
        document.dispatchEvent(new CustomEvent("bst:place-chosen", { detail: place })); // the "my place" card
      });
      item.appendChild(button);
      list.appendChild(item);
    }
    list.querySelector("button").focus();
  });
  list.addEventListener("keydown", (e) => {
    const buttons = [...list.querySelectorAll("button")];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === "ArrowDown" && i < buttons.length - 1) { e.preventDefault(); buttons[i + 1].focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? buttons[i - 1] : document.getElementById("search")).focus(); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !list.hidden) { list.hidden = true; document.getElementById("search").focus(); }
  });
}

async function main() {
  const [config, areas, legend, stories] = await Promise.all([
    getJSON("/api/config"), getJSON("/api/gemeenten"), getJSON("/api/legend"), getJSON("/api/stories"),
  ]);
  state.legend = legend;
  for (const story of stories.stories) for (const id of [story.layer, ...story.aliases]) state.stories[id] = story;
  if (config.theme_class && !document.body.classList.contains(config.theme_class)) {
    document.body.classList.remove("voorbeeld-theme");
    document.body.classList.add(config.theme_class);
  }
  const style = { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#eef0ee" } }] };
  if (config.basemap_url) {
    style.sources.basemap = { type: "raster", tiles: [config.basemap_url], tileSize: 256, attribution: "Kadaster BRT-Achtergrondkaart (CC BY 4.0)" };
    style.layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  const first = areas.find((a) => a.kind === "gemeente") || areas[0];
  const map = new maplibregl.Map({
    container: "map", style, bounds: first ? first.bounds_wgs84 : [3.3, 50.7, 7.3, 53.6],
    fitBoundsOptions: { padding: 20 }, maxZoom: 21,
  });
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  // Slots for the "my place" card and the scenario panel, filled by their own modules.
  const slot = (id) => ({ show(html) { const s = document.getElementById(id); s.querySelector(".slot-body").innerHTML = html; s.hidden = false; },
    hide() { document.getElementById(id).hidden = true; }, element: document.getElementById(id) });
  window.bst = { map, ready: false, state, slots: { place: slot("my-place"), scenario: slot("scenario") } };
  // The scenario panel adds (or drops) the "with measures" entry of the layer switcher and picks a layer.
  window.bst.selectLayer = (id) => { state.layer = id; renderLayerSwitcher(map); if (state.current) applyView(map); };
  window.bst.setScenarioLayer = (on) => {
    scenarioLayer = on ? SCENARIO_LAYER : null;
    window.bst.selectLayer(!on && state.layer === SCENARIO_LAYER.id ? "score" : state.layer);
  };
  renderTexts(map);
  const select = document.getElementById("area");
  select.innerHTML = areas.map((a) => `<option value="${esc(a.code)}">${esc(a.name)} (${esc(a.code)})</option>`).join("");
  if (first) select.value = first.code;
  else document.getElementById("info").textContent = t("empty");

  document.getElementById("lang").addEventListener("click", () => {
    state.lang = state.lang === "nl" ? "en" : "nl";
    localStorage.setItem("bst-lang", state.lang);
    renderTexts(map);
  });
  select.addEventListener("change", () => showArea(map, areas.find((a) => a.code === select.value), true));
  document.getElementById("show-cells").addEventListener("change", () => applyView(map));
  setUpSearch(map, areas, select);
  setUpStory();
  setUpComparison();
  setUpPlace(); // "my place" card and scenario panel: place.js, scenario.js
  setUpScenario();
  // The view a panel answer is about: the comparison when open, else what the page set last
  // ("map", or "place" / "scenario" when those modules set window.bst.state.viewName).
  mountFeedback(document.getElementById("feedback-panel"), "fb", () => (state.comparisonOpen ? "comparison" : state.viewName === "story" ? "map" : state.viewName));
  mountFeedback(document.getElementById("feedback-story"), "fb-story", () => "story");
  map.on("load", () => {
    if (first) showArea(map, first, false);
    else map.once("idle", () => { window.bst.ready = true; });
  });
  map.on("click", async (e) => {
    if (!state.current || state.drawing) return; // drawing: the clicks are corners of a scenario place
    const info = document.getElementById("info");
    let html;
    const cellsShown = state.layer !== "score" || document.getElementById("show-cells").checked;
    if (map.getZoom() >= 14 && cellsShown) {
      html = await cellTable(e.lngLat);
    } else {
      const layers = levelsOf(state.current).map((l) => `${l.id}-fill`);
      const hit = map.queryRenderedFeatures(e.point, { layers })[0];
      html = hit ? areaTable(hit.properties) : await cellTable(e.lngLat);
    }
    info.innerHTML = html;
    // The popup is short (name and class); the full table is in the panel, so the map stays visible.
    const title = info.querySelector("strong");
    const cls = info.querySelector("table td");
    const summary = title ? `<strong>${esc(title.textContent)}</strong><br>${esc(t("cls"))} ${esc(cls ? cls.textContent : "–")}` : esc(info.textContent);
    popup.setLngLat(e.lngLat).setHTML(summary).addTo(map);
  });
}

main();
