// The map page: gemeente → wijk → buurt → 10 m cell, coloured by the 7 stress-test classes.
import * as maplibregl from "maplibre-gl";

const TEXT = {
  nl: {
    title: "Biodiversiteitstresstest", legend: "Stresstestklasse", layers: "Lagen",
    legendNote: "Vaste klassegrenzen, gelijk voor elke gemeente.",
    cells: "Cellen van 10 m (vanaf zoom 14)", sources: "Bronnen",
    clickHint: "Klik op de kaart voor de waarden van een buurt of cel.",
    green: "Aandeel groen", n2k: "Aandeel Natura 2000", score: "Score", cls: "Klasse",
    nodata: "Zonder groenkaartwaarde", cell: "Cel 10 × 10 m", inhabitants: "Inwoners",
    noData: "Hier zijn geen resultaten.", map: "Kaart", switchTo: "Switch to English", other: "EN",
    empty: "Nog geen gemeente geladen: draai eerst `biostresstest run --gemeente GM0758`.",
  },
  en: {
    title: "Biodiversity stress test", legend: "Stress-test class", layers: "Layers",
    legendNote: "Fixed class bounds, the same for every municipality.",
    cells: "10 m cells (from zoom 14)", sources: "Sources",
    clickHint: "Click the map for the values of a neighbourhood or cell.",
    green: "Green share", n2k: "Natura 2000 share", score: "Score", cls: "Class",
    nodata: "Without green-map value", cell: "Cell 10 × 10 m", inhabitants: "Inhabitants",
    noData: "No results here.", map: "Map", switchTo: "Naar het Nederlands", other: "NL",
    empty: "No municipality loaded yet: run `biostresstest run --gemeente GM0758` first.",
  },
};
const LEVELS = [
  { id: "gemeente", minzoom: 0, maxzoom: 10 },
  { id: "wijk", minzoom: 10, maxzoom: 12 },
  { id: "buurt", minzoom: 12, maxzoom: 24 },
];

let lang = localStorage.getItem("bst-lang") || "nl";
let legend = null;
let sourcesLine = "";
const t = (key) => TEXT[lang][key] || key;
const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)} %`);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

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

function renderTexts() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  const button = document.getElementById("lang");
  button.textContent = t("other");
  button.setAttribute("aria-label", t("switchTo"));
  document.getElementById("map").setAttribute("aria-label", t("map"));
  const list = document.getElementById("legend");
  list.innerHTML = "";
  for (const c of legend.classes) {
    const item = document.createElement("li");
    item.dataset.class = c.value;
    const light = c.value === 4 || c.value === 5;
    item.innerHTML = `<span class="swatch" style="background:${c.colour};color:${light ? "#000" : "#fff"}">${c.value}</span>` +
      `<span>${esc(lang === "nl" ? c.label_nl : c.label_en)}</span>`;
    list.appendChild(item);
  }
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
      <tr><th>${t("nodata")}</th><td>${pct(p.groenkaart_nodata_share)}</td></tr>
      <tr><th>${t("inhabitants")}</th><td>${p.inwoners ?? "–"}</td></tr>
    </table>${sourceNote()}`;
}

async function cellTable(lngLat) {
  try {
    const a = await getJSON(`/api/cell?x=${lngLat.lng}&y=${lngLat.lat}&crs=EPSG:4326`);
    const v = a.cell;
    return `<strong>${t("cell")}</strong> <small>RD ${a.x.toFixed(0)}, ${a.y.toFixed(0)} · ${esc(a.buurt.name)}</small>
      <table>
        <tr><th>${t("cls")}</th><td>${esc(v.score_class)}</td></tr>
        <tr><th>${t("score")}</th><td>${v.score === null ? "–" : Number(v.score).toFixed(3)}</td></tr>
        <tr><th>${t("green")}</th><td>${pct(v.green_share)}</td></tr>
        <tr><th>${t("n2k")}</th><td>${pct(v.natura2000_share)}</td></tr>
      </table>${sourceNote()}`;
  } catch {
    return t("noData");
  }
}

function addLayers(map, code) {
  for (const level of LEVELS) {
    map.addSource(level.id, {
      type: "vector",
      tiles: [`${location.origin}/tiles/${code}/${level.id}/{z}/{x}/{y}.mvt`],
      minzoom: level.id === "gemeente" ? 5 : 8,
      maxzoom: level.id === "gemeente" ? 13 : level.id === "wijk" ? 14 : 15,
      attribution: "CBS / Kadaster (CC BY 4.0)",
    });
  }
  map.addSource("cells", {
    type: "raster",
    tiles: [`${location.origin}/tiles/${code}/cells/score_class/{z}/{x}/{y}.png`],
    tileSize: 256, minzoom: 12, maxzoom: 19,
    attribution: "RIVM Groenkaart; Natura 2000: RVO/LNV",
  });
  for (const level of LEVELS) {
    map.addLayer({
      id: `${level.id}-fill`, type: "fill", source: level.id, "source-layer": level.id,
      minzoom: level.minzoom, maxzoom: level.maxzoom,
      paint: { "fill-color": classColourExpression(), "fill-opacity": 0.75 },
    });
  }
  map.addLayer({ id: "cells", type: "raster", source: "cells", minzoom: 14, paint: { "raster-opacity": 0.85 } });
  for (const level of LEVELS) {
    map.addLayer({
      id: `${level.id}-line`, type: "line", source: level.id, "source-layer": level.id,
      minzoom: level.id === "gemeente" ? 0 : level.minzoom,
      paint: { "line-color": "#222", "line-width": level.id === "gemeente" ? 2.5 : 1 },
    });
  }
}

async function main() {
  const [config, gemeenten] = await Promise.all([getJSON("/api/config"), getJSON("/api/gemeenten")]);
  legend = await getJSON("/api/legend");
  renderTexts();
  document.getElementById("lang").addEventListener("click", () => {
    lang = lang === "nl" ? "en" : "nl";
    localStorage.setItem("bst-lang", lang);
    renderTexts();
  });
  const style = { version: 8, sources: {}, layers: [{ id: "bg", type: "background", paint: { "background-color": "#eef0ee" } }] };
  if (config.basemap_url) {
    style.sources.basemap = { type: "raster", tiles: [config.basemap_url], tileSize: 256, attribution: "Kadaster BRT-Achtergrondkaart (CC BY 4.0)" };
    style.layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  const first = gemeenten[0];
  const map = new maplibregl.Map({
    container: "map", style, bounds: first ? first.bounds_wgs84 : [3.3, 50.7, 7.3, 53.6],
    fitBoundsOptions: { padding: 20 }, maxZoom: 19,
  });
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  window.bst = { map, ready: false };
  if (!first) {
    document.getElementById("info").textContent = t("empty");
  }
  map.on("load", () => {
    if (first) {
      document.getElementById("gemeente-name").textContent = `${first.name} (${first.code})`;
      renderSources(first.inputs);
      addLayers(map, first.code);
    }
    map.once("idle", () => { window.bst.ready = true; });
  });
  document.getElementById("show-cells").addEventListener("change", (e) => {
    map.setLayoutProperty("cells", "visibility", e.target.checked ? "visible" : "none");
  });
  const popup = new maplibregl.Popup({ maxWidth: "300px" });
  map.on("click", async (e) => {
    const info = document.getElementById("info");
    let html;
    if (map.getZoom() >= 14 && document.getElementById("show-cells").checked) {
      html = await cellTable(e.lngLat);
    } else {
      const hit = map.queryRenderedFeatures(e.point, { layers: LEVELS.map((l) => `${l.id}-fill`) })[0];
      html = hit ? areaTable(hit.properties) : t("noData");
    }
    info.innerHTML = html;
    popup.setLngLat(e.lngLat).setHTML(html).addTo(map);
  });
}

main();
