// Texts in Dutch and English, the current language, and small formatting helpers.
export const TEXT = {
  nl: {
    title: "Biodiversiteitstresstest", legend: "Stresstestklasse", layers: "Lagen",
    legendNote: "Vaste klassegrenzen, gelijk voor elke gemeente.",
    cells: "Cellen tonen (vanaf zoom 14)", sources: "Bronnen", skip: "Naar het paneel",
    clickHint: "Klik op de kaart voor de waarden van een buurt of cel.",
    why: "Zo ontstaat de score", confidenceShort: "Betrouwbaarheid",
    baf: "Biotoopfactor (BAF)", ugf: "Groenfactor (UGF)", hq: "Habitatkwaliteit (InVEST)",
    green: "Aandeel groen", n2k: "Aandeel Natura 2000", score: "Score", cls: "Klasse",
    nodata: "Zonder groenkaartwaarde", cell: "Cel", inhabitants: "Inwoners",
    noData: "Hier zijn geen resultaten.", map: "Kaart", other: "English", otherLang: "en",
    empty: "Nog geen gemeente geladen: draai eerst `biostresstest run --gemeente GM0758`.",
    area: "Gebied", view: "Kaartlaag", legendLandcover: "Bodembedekking (ha in dit gebied)",
    legendConfidence: "Betrouwbaarheid van de bodembedekking", landcover: "Bodembedekking",
    legendValue: "per gebied, in 7 stappen", worse: "hoger is slechter",
    searchLabel: "Zoek een plaats", searchPlaceholder: "Zoek adres, straat, buurt of gemeente",
    searchButton: "Zoek", noMatch: "Niets gevonden", searchOffline: "alleen geladen gebieden",
    features: "Eigen lagen", bermen: "Bermen", bos: "Bos", water: "Water", erf: "Erven",
    hagen: "Hagen", bomen: "Bomen", panel: "Paneel",
    storyButton: "Verhaal bij deze kaart", close: "Sluiten", storyShows: "Wat de kaart laat zien",
    storyMethod: "Hoe de kaart is gemaakt", storySources: "Bronnen",
    storyUncertainty: "Onzekerheid", storyActions: "Wat kunt u ermee?",
    actGemeente: "Gemeente", actBedrijf: "Bedrijf", actBewoner: "Bewoner",
    storyFeedback: "Was dit verhaal duidelijk?", feedback: "Was dit duidelijk?", role: "Ik ben",
    role_bewoner: "bewoner", role_bedrijf: "bedrijf", role_agrarier: "agrariër",
    role_beleidsmaker: "beleidsmaker", role_bestuurder: "bestuurder",
    clarity: "Hoe duidelijk (1 = onduidelijk, 5 = heel duidelijk)",
    comment: "Opmerking (mag leeg blijven)", send: "Verstuur",
    thanks: "Dank u wel! Uw antwoord is opgeslagen.", pickClarity: "Kies eerst 1 tot 5.",
    sendFailed: "Versturen lukte niet", compareButton: "Buurten vergelijken",
    comparison: "Buurten vergelijken", level: "Niveau", buurten: "Buurten", wijken: "Wijken",
    backToMap: "Terug naar de kaart", name: "Naam", code: "Code",
    sortBy: "Sorteer op", chartCaption: "Staafdiagram: {m} per {l}, gesorteerd zoals de tabel. Het getal in de staaf is de stresstestklasse.",
    tableCaption: "{n} {l} van {g}. Klik op een kolomkop om te sorteren.",
    downloads: "Downloaden", myPlace: "Mijn plek", scenario: "Scenario",
    distance: "Afstand tot kernnatuur (m)", vulnerability: "Kwetsbaarheid",
  },
  en: {
    title: "Biodiversity stress test", legend: "Stress-test class", layers: "Layers",
    legendNote: "Fixed class bounds, the same for every municipality.",
    cells: "Show cells (from zoom 14)", sources: "Sources", skip: "Skip to the panel",
    clickHint: "Click the map for the values of a neighbourhood or cell.",
    why: "How the score is made", confidenceShort: "Confidence",
    baf: "Biotope Area Factor", ugf: "Urban Greening Factor", hq: "Habitat quality (InVEST)",
    green: "Green share", n2k: "Natura 2000 share", score: "Score", cls: "Class",
    nodata: "Without green-map value", cell: "Cell", inhabitants: "Inhabitants",
    noData: "No results here.", map: "Map", other: "Nederlands", otherLang: "nl",
    empty: "No municipality loaded yet: run `biostresstest run --gemeente GM0758` first.",
    area: "Area", view: "Map layer", legendLandcover: "Land cover (ha in this area)",
    legendConfidence: "Confidence of the land cover", landcover: "Land cover",
    legendValue: "per area, in 7 steps", worse: "higher is worse",
    searchLabel: "Search a place", searchPlaceholder: "Search address, street, neighbourhood or municipality",
    searchButton: "Search", noMatch: "Nothing found", searchOffline: "loaded areas only",
    features: "Layers of their own", bermen: "Road verges", bos: "Forest", water: "Water",
    erf: "Yards and gardens", hagen: "Hedges", bomen: "Trees", panel: "Panel",
    storyButton: "Story of this map", close: "Close", storyShows: "What the map shows",
    storyMethod: "How the map is made", storySources: "Sources",
    storyUncertainty: "Uncertainty", storyActions: "What can you do with it?",
    actGemeente: "Municipality", actBedrijf: "Company", actBewoner: "Resident",
    storyFeedback: "Was this story clear?", feedback: "Was this clear?", role: "I am a",
    role_bewoner: "resident", role_bedrijf: "company", role_agrarier: "farmer",
    role_beleidsmaker: "policy maker", role_bestuurder: "councillor",
    clarity: "How clear (1 = unclear, 5 = very clear)",
    comment: "Comment (optional)", send: "Send",
    thanks: "Thank you! Your answer has been saved.", pickClarity: "Choose 1 to 5 first.",
    sendFailed: "Sending failed", compareButton: "Compare neighbourhoods",
    comparison: "Compare neighbourhoods", level: "Level", buurten: "Neighbourhoods", wijken: "Districts",
    backToMap: "Back to the map", name: "Name", code: "Code",
    sortBy: "Sort by", chartCaption: "Bar chart: {m} per {l}, sorted like the table. The number in the bar is the stress-test class.",
    tableCaption: "{n} {l} of {g}. Click a column header to sort.",
    downloads: "Download", myPlace: "My place", scenario: "Scenario",
    distance: "Distance to core habitat (m)", vulnerability: "Vulnerability",
  },
};

export const state = {
  lang: localStorage.getItem("bst-lang") === "en" ? "en" : "nl",
  stories: {},   // layer → story (both languages)
  legend: null,  // the 7 classes
  current: null, // the loaded area shown
  layer: "score",
  viewName: "map", // map | comparison | story
};

export const t = (key) => TEXT[state.lang][key] ?? key;
export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(1)} %`);
export const num = (v, d = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));

export async function getJSON(url) {
  const answer = await fetch(url);
  if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
  return answer.json();
}

// Title of a layer in the current language, from its story (one source for names).
export function layerTitle(id) {
  const story = state.stories[id];
  return story ? story[state.lang].title : t(id);
}

// Black or white text, whichever contrasts more with a background colour (WCAG 1.4.3).
export function textOn(hex) {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  const lum = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  return (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) ? "#000" : "#fff";
}
