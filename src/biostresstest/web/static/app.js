// The map page: gemeente → wijk → buurt → cell, or a study area; stress test, land cover, confidence.
import * as maplibregl from "maplibre-gl";

const TEXT = {
  nl: {
    title: "Biodiversiteitstresstest", legend: "Stresstestklasse", layers: "Lagen",
    legendNote: "Vaste klassegrenzen, gelijk voor elke gemeente.",
    cells: "Cellen tonen (vanaf zoom 14)", sources: "Bronnen",
    clickHint: "Klik op de kaart voor de waarden van een buurt of cel.",
    why: "Zo ontstaat de score", confidenceShort: "Betrouwbaarheid",
    baf: "Biotoopfactor (BAF)", ugf: "Groenfactor (UGF)", hq: "Habitatkwaliteit (InVEST)",
    green: "Aandeel groen", n2k: "Aandeel Natura 2000", score: "Score", cls: "Klasse",
    nodata: "Zonder groenkaartwaarde", cell: "Cel", inhabitants: "Inwoners",
    noData: "Hier zijn geen resultaten.", map: "Kaart", switchTo: "Switch to English", other: "EN",
    empty: "Nog geen gemeente geladen: draai eerst `biostresstest run --gemeente GM0758`.",
    area: "Gebied", view: "Kaartlaag", viewScore: "Stresstest", viewLandcover: "Bodembedekking",
    viewConfidence: "Betrouwbaarheid", legendLandcover: "Bodembedekking (ha in dit gebied)",
    legendConfidence: "Betrouwbaarheid van de bodembedekking", landcover: "Bodembedekking",
    searchLabel: "Zoek een plaats", searchPlaceholder: "Zoek gemeente, wijk of buurt",
    searchButton: "Zoek", noMatch: "Niets gevonden",
    features: "Eigen lagen", bermen: "Bermen", bos: "Bos", water: "Water", erf: "Erven",
    hagen: "Hagen", bomen: "Bomen",
  },
  en: {
    title: "Biodiversity stress test", legend: "Stress-test class", layers: "Layers",
    legendNote: "Fixed class bounds, the same for every municipality.",
    cells: "Show cells (from zoom 14)", sources: "Sources",
    clickHint: "Click the map for the values of a neighbourhood or cell.",
    why: "How the score is made", confidenceShort: "Confidence",
    baf: "Biotope Area Factor", ugf: "Urban Greening Factor", hq: "Habitat quality (InVEST)",
    green: "Green share", n2k: "Natura 2000 share", score: "Score", cls: "Class",
    nodata: "Without green-map value", cell: "Cell", inhabitants: "Inhabitants",
    noData: "No results here.", map: "Map", switchTo: "Naar het Nederlands", other: "NL",
    empty: "No municipality loaded yet: run `biostresstest run --gemeente GM0758` first.",
    area: "Area", view: "Map layer", viewScore: "Stress test", viewLandcover: "Land cover",
    viewConfidence: "Confidence", legendLandcover: "Land cover (ha in this area)",
    legendConfidence: "Confidence of the land cover", landcover: "Land cover",
    searchLabel: "Search a place", searchPlaceholder: "Search municipality, district or neighbourhood",
    searchButton: "Search", noMatch: "Nothing found",
    features: "Layers of their own", bermen: "Road verges", bos: "Forest", water: "Water",
    erf: "Yards and gardens", hagen: "Hedges", bomen: "Trees",
  },
};
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
};

let lang = localStorage.getItem("bst-lang") || "nl";
let legend = null;
let sourcesLine = "";
let current = null;   // the loaded area shown
let view = "score";   // score | landcover | confidence
let landcoverInfo = null;
const t = (key) => TEXT[lang][key] || key;
const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)} %`);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v) => (v === null || v === undefined ? "–" : Number(v).toFixed(2));
const ha = (m2) => `${(m2 / 10000).toLocaleString(lang, { maximumFractionDigits: 2 })} ha`;

async function getJSON(url) {
  const answer = await fetch(url);
  if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
  return answer.json();
}

function classColourExpression() {
  const expr = ["match", ["get", "score_class"]];
  for (const c of legend.classes) expr.push(c.value, c.colour);
  expr.push("rgba(0,0,0,0)");
  return expr;
}

function swatch(colour, text) {
  return `<span class="swatch" style="background:${colour}">${text ?? ""}</span>`;
}

function renderLegend() {
  const title = document.getElementById("legend-title");
  const note = document.querySelector("[data-i18n=legendNote]");
  const list = document.getElementById("legend");
  list.innerHTML = "";
  note.hidden = view !== "score";
  if (view === "score") {
    title.textContent = t("legend");
    for (const c of legend.classes) {
      const item = document.createElement("li");
      item.dataset.class = c.value;
      const light = c.value === 4 || c.value === 5;
      item.innerHTML = `<span class="swatch" style="background:${c.colour};color:${light ? "#000" : "#fff"}">${c.value}</span>` +
        `<span>${esc(lang === "nl" ? c.label_nl : c.label_en)}</span>`;
      list.appendChild(item);
    }
  } else if (view === "landcover" && landcoverInfo) {
    title.textContent = t("legendLandcover");
    for (const c of landcoverInfo.classes) {
      const item = document.createElement("li");
      item.innerHTML = `${swatch(c.colour)}<span>${esc(lang === "nl" ? c.name_nl : c.name_en)}: ${ha(c.m2)}</span>`;
      list.appendChild(item);
    }
  } else if (view === "confidence" && landcoverInfo) {
    title.textContent = t("legendConfidence");
    for (const c of landcoverInfo.confidence) {
      const item = document.createElement("li");
      item.innerHTML = `${swatch(CONFIDENCE_COLOURS[c.level] || "#ffffff")}<span>${esc(lang === "nl" ? c.label_nl : c.label_en)}: ${pct(c.share)}</span>`;
      list.appendChild(item);
    }
  }
}

function renderTexts() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  const button = document.getElementById("lang");
  button.textContent = t("other");
  button.setAttribute("aria-label", t("switchTo"));
  document.getElementById("map").setAttribute("aria-label", t("map"));
  renderLegend();
}

function renderSources(inputs) {
  sourcesLine = inputs.map((s) => `${s.publisher} (${s.licence})`).join("; ");
  const list = document.getElementById("sources");
  list.innerHTML = "";
  for (const s of inputs) {
    const item = document.createElement("li");
    item.innerHTML = `${esc(s.title)}: ${esc(s.publisher)}, ${esc(s.licence)}`;
    list.appendChild(item);
  }
}

function sourceNote() {
  return `<p class="popup-sources"><small>${t("sources")}: ${esc(sourcesLine)}</small></p>`;
}

function areaTable(p) {
  return `<strong>${esc(p.name)}</strong> <small>(${esc(p.code)}, ${esc(p.level)})</small>
    <table>
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
    const name = (o) => (lang === "nl" ? o.title_nl || o.name_nl : o.title_en || o.name_en);
    const rows = [...a.components, ...a.context].map((c) =>
      `<tr><th>${esc(name(c))}</th><td>${c.unit.startsWith("fraction") ? pct(c.value) : num(c.value)}</td></tr>`).join("");
    const why = a.components.map((c) => `${esc(name(c)).toLowerCase()}<sup>${c.weight}</sup>`).join(" · ");
    const lc = a.landcover
      ? `<tr><th>${t("landcover")}</th><td>${esc(name(a.landcover))}</td></tr>
         <tr><th>${t("confidenceShort")}</th><td>${esc(lang === "nl" ? a.landcover.confidence.label_nl : a.landcover.confidence.label_en)}</td></tr>`
      : "";
    return `<strong>${t("cell")} ${size}</strong> <small>RD ${a.x.toFixed(0)}, ${a.y.toFixed(0)} · ${esc(a.area.name)}</small>
      <table>
        <tr><th>${t("cls")}</th><td>${esc(a.score.class)} (${esc(lang === "nl" ? a.score.label_nl : a.score.label_en)})</td></tr>
        <tr><th>${t("score")}</th><td>${num(a.score.value)}</td></tr>
        ${rows}${lc}
      </table>
      <p class="why"><small>${t("why")}: ${t("score").toLowerCase()} = ${why}</small></p>${sourceNote()}`;
  } catch {
    return t("noData");
  }
}

function levelsOf(area) {
  return LEVELS[area.kind] || LEVELS.gemeente;
}

function removeAreaLayers(map) {
  for (const layer of map.getStyle().layers) {
    if (layer.id !== "bg" && layer.id !== "basemap") map.removeLayer(layer.id);
  }
  for (const id of Object.keys(map.getStyle().sources)) {
    if (id !== "basemap") map.removeSource(id);
  }
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
      type: "raster",
      tiles: [`${location.origin}/tiles/${area.code}/cells/${layer}/{z}/{x}/{y}.png`],
      tileSize: 256, minzoom: 8, maxzoom: area.cell_size && area.cell_size < 5 ? 21 : 19,
    });
  }
  for (const level of levels) {
    map.addLayer({
      id: `${level.id}-fill`, type: "fill", source: level.id, "source-layer": level.id,
      minzoom: level.minzoom, maxzoom: level.id === "gebied" ? 14 : level.maxzoom,
      layout: { visibility: view === "score" ? "visible" : "none" },
      paint: { "fill-color": classColourExpression(), "fill-opacity": 0.75 },
    });
  }
  map.addLayer({ id: "cells", type: "raster", source: "cells-score_class", minzoom: 14,
    layout: { visibility: view === "score" && document.getElementById("show-cells").checked ? "visible" : "none" },
    paint: { "raster-opacity": 0.85 } });
  for (const layer of ["landcover", "confidence"]) {
    map.addLayer({ id: `cells-${layer}`, type: "raster", source: `cells-${layer}`,
      layout: { visibility: view === layer ? "visible" : "none" }, paint: { "raster-opacity": 0.9 } });
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
  const legendEl = document.createElement("legend");
  legendEl.dataset.i18n = "features";
  legendEl.textContent = t("features");
  box.appendChild(legendEl);
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
  for (const level of levelsOf(current)) {
    map.setLayoutProperty(`${level.id}-fill`, "visibility", view === "score" ? "visible" : "none");
  }
  const cells = view === "score" && document.getElementById("show-cells").checked;
  map.setLayoutProperty("cells", "visibility", cells ? "visible" : "none");
  for (const layer of ["landcover", "confidence"]) {
    map.setLayoutProperty(`cells-${layer}`, "visibility", view === layer ? "visible" : "none");
  }
  renderLegend();
}

const popup = new maplibregl.Popup({ maxWidth: "300px" });

async function showArea(map, area, fit) {
  current = area;
  window.bst.ready = false;
  document.getElementById("gemeente-name").textContent = `${area.name} (${area.code})`;
  renderSources(area.inputs);
  landcoverInfo = await getJSON(`/api/landcover?area=${encodeURIComponent(area.code)}`).catch(() => null);
  removeAreaLayers(map);
  addAreaLayers(map, area);
  renderFeatureToggles(map, area);
  document.getElementById("info").innerHTML = `<p>${esc(t("clickHint"))}</p>`;
  popup.remove();
  renderLegend();
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
      list.innerHTML = `<li><button type="button" disabled>${esc(t("noMatch"))}</button></li>`;
      return;
    }
    for (const place of answer.places) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${place.name} (${place.type}, ${place.code})`;
      button.addEventListener("click", async () => {
        list.hidden = true;
        if (!current || current.code !== place.gemeente) {
          select.value = place.gemeente;
          await showArea(map, areas.find((a) => a.code === place.gemeente), false);
        }
        map.fitBounds(place.bbox_wgs84, { padding: 30, duration: 0 });
      });
      item.appendChild(button);
      list.appendChild(item);
    }
    list.querySelector("button").focus();
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") list.hidden = true; });
}

async function main() {
  const [config, areas] = await Promise.all([getJSON("/api/config"), getJSON("/api/gemeenten")]);
  legend = await getJSON("/api/legend");
  renderTexts();
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
  window.bst = { map, ready: false };
  const select = document.getElementById("area");
  for (const area of areas) {
    const option = document.createElement("option");
    option.value = area.code;
    option.textContent = `${area.name} (${area.code})`;
    select.appendChild(option);
  }
  if (first) select.value = first.code;
  if (!first) document.getElementById("info").textContent = t("empty");

  document.getElementById("lang").addEventListener("click", () => {
    lang = lang === "nl" ? "en" : "nl";
    localStorage.setItem("bst-lang", lang);
    renderTexts();
  });
  select.addEventListener("change", () => showArea(map, areas.find((a) => a.code === select.value), true));
  for (const radio of document.querySelectorAll("input[name=view]")) {
    radio.addEventListener("change", () => { view = radio.value; applyView(map); });
  }
  document.getElementById("show-cells").addEventListener("change", () => applyView(map));
  setUpSearch(map, areas, select);
  map.on("load", () => {
    if (first) showArea(map, first, false);
    else map.once("idle", () => { window.bst.ready = true; });
  });
  map.on("click", async (e) => {
    if (!current) return;
    const info = document.getElementById("info");
    let html;
    const cellsShown = view !== "score" || document.getElementById("show-cells").checked;
    if (map.getZoom() >= 14 && cellsShown) {
      html = await cellTable(e.lngLat);
    } else {
      const layers = levelsOf(current).map((l) => `${l.id}-fill`);
      const hit = map.queryRenderedFeatures(e.point, { layers })[0];
      html = hit ? areaTable(hit.properties) : await cellTable(e.lngLat);
    }
    info.innerHTML = html;
    popup.setLngLat(e.lngLat).setHTML(html).addTo(map);
  });
}

main();
