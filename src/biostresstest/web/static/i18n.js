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
    // "Mijn plek" (place.js) and the scenario panel (scenario.js); B1 Dutch.
    straatnamen: "Straatnamen", placeCentre: "Mijn plek: het midden van de kaart",
    placeCentreName: "Midden van de kaart", placeLoading: "Even zoeken…",
    placeOutside: "Voor deze plek hebben we geen gegevens. Kies een plek in een geladen gebied.",
    placeTableCaption: "Klasse nu en na de beste maatregelen, voor deze plek en de buurt",
    placeSpot: "Deze plek", placeBuurt: "De buurt", placeArea: "Het gebied",
    placeNow: "Nu", placePotential: "Kan worden", placeNoClass: "geen klasse",
    placeLandcover: "Wat hier ligt",
    placePotentialNote: "‘Kan worden’ is de klasse als overal de best passende maatregelen zijn genomen.",
    placeMeasures: "Drie maatregelen die hier goed passen", placeNoMeasures: "Hier past geen maatregel uit onze lijst.",
    placeEffect: "Wat het doet", placeCost: "Kosten", placeCostUnknown: "kosten onbekend",
    placeCostPartial: "zonder het uitbreken van de verharding", placeYears: "Na {n} jaar werkt het helemaal",
    placeWhy: "Waarom het past", placeShowOnMap: "Toon op de kaart",
    placeLayer_score: "Nu", placeLayer_potential: "Kan worden (potentieel)", placeLayer_opportunity: "Kans (verschil)",
    placePrint: "Afdrukken", placePdf: "PDF van deze plek",
    scenIntro: "Teken een gebied op de kaart en kies een maatregel. U ziet dan wat er verandert.",
    scenDraw: "Teken een gebied", scenSquare: "Of neem een vierkant in het midden van de kaart",
    scenUseSquare: "Gebruik dit vierkant", scenMeasure: "Maatregel",
    scenRecommended: "Past hier goed", scenCatalogue: "Alle maatregelen", scenCompute: "Bereken",
    scenDrawHelp: "Klik de hoeken aan op de kaart. Dubbelklik of Enter: klaar. Escape: stoppen. Backspace: laatste hoek weg.",
    scenCorners: "{n} hoeken gezet.", scenTooFew: "Zet minstens drie hoeken.", scenCancelled: "Tekenen gestopt.",
    scenDrawn: "Gebied met {n} hoeken, ongeveer {a} m². Kies een maatregel en klik op Bereken.",
    with_measures: "Met maatregelen", scenMap: "Kaart", scenMapBefore: "Voor (nu)", scenMapAfter: "Na (met maatregelen)",
    scenNoPlace: "Teken eerst een gebied.", scenComputing: "Bezig met rekenen…", scenDone: "Klaar. De tabel laat voor en na zien.",
    scenFailed: "Dat lukte niet", scenCaption: "Voor en na de maatregel",
    scenWhat: "Wat", scenBefore: "Voor", scenAfter: "Na", scenDelta: "Verschil",
    scenScorePlace: "Score op de plek", scenScoreWindow: "Score in de omgeving ({n} cellen)",
    scenScoreArea: "Score van het hele gebied", scenHabitat: "Leefgebied (habitatkwaliteit), op de plek",
    scenSurface: "Groenfactor (BAF), op de plek", scenConnectivity: "Verbinding met natuur, in de omgeving",
    scenCooling: "Verkoelend vermogen, op de plek", scenCanopy: "Bladerdak, op de plek",
    scenWater: "Regen vastgehouden", scenCost: "Kosten", scenCostPartial: "(zonder het uitbreken van verharding)",
    scenCostUnknown: "Kosten onbekend voor", scenYears: "Na {n} jaar werkt het helemaal.",
    scenNote: "Een schatting met vaste regels; de plek zelf kan anders zijn.", scenSeconds: "berekend in {s} s",
    scenName: "Naam om op te slaan", scenNameRule: "Alleen kleine letters a–z, cijfers, - of _ (hoogstens 64).",
    scenSave: "Opslaan", scenSaving: "Bezig met opslaan…", scenSaved: "Opgeslagen als ‘{n}’.",
    scenTaken: "De naam ‘{n}’ is al in gebruik. Kies een andere naam.",
    scenNoRight: "Alleen een beheerder van deze gemeente mag dit scenario vervangen. Log in of kies een andere naam.",
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
    straatnamen: "Street names", placeCentre: "My place: the centre of the map",
    placeCentreName: "Centre of the map", placeLoading: "Looking it up…",
    placeOutside: "We have no data for this spot. Choose a spot in a loaded area.",
    placeTableCaption: "Class now and after the best measures, for this spot and the neighbourhood",
    placeSpot: "This spot", placeBuurt: "The neighbourhood", placeArea: "The area",
    placeNow: "Now", placePotential: "Could become", placeNoClass: "no class",
    placeLandcover: "What is here",
    placePotentialNote: "‘Could become’ is the class when the best fitting measures are taken everywhere.",
    placeMeasures: "Three measures that fit well here", placeNoMeasures: "No measure from our list fits here.",
    placeEffect: "What it does", placeCost: "Cost", placeCostUnknown: "cost unknown",
    placeCostPartial: "without breaking out the paving", placeYears: "Full effect after {n} years",
    placeWhy: "Why it fits", placeShowOnMap: "Show on the map",
    placeLayer_score: "Now", placeLayer_potential: "Could become (potential)", placeLayer_opportunity: "Opportunity (difference)",
    placePrint: "Print", placePdf: "PDF of this spot",
    scenIntro: "Draw an area on the map and choose a measure. You will see what changes.",
    scenDraw: "Draw an area", scenSquare: "Or take a square in the centre of the map",
    scenUseSquare: "Use this square", scenMeasure: "Measure",
    scenRecommended: "Fits well here", scenCatalogue: "All measures", scenCompute: "Compute",
    scenDrawHelp: "Click the corners on the map. Double-click or Enter: done. Escape: stop. Backspace: remove the last corner.",
    scenCorners: "{n} corners set.", scenTooFew: "Set at least three corners.", scenCancelled: "Drawing stopped.",
    scenDrawn: "Area with {n} corners, about {a} m². Choose a measure and click Compute.",
    with_measures: "With measures", scenMap: "Map", scenMapBefore: "Before (now)", scenMapAfter: "After (with measures)",
    scenNoPlace: "Draw an area first.", scenComputing: "Computing…", scenDone: "Done. The table shows before and after.",
    scenFailed: "That did not work", scenCaption: "Before and after the measure",
    scenWhat: "What", scenBefore: "Before", scenAfter: "After", scenDelta: "Difference",
    scenScorePlace: "Score on the spot", scenScoreWindow: "Score around it ({n} cells)",
    scenScoreArea: "Score of the whole area", scenHabitat: "Habitat quality, on the spot",
    scenSurface: "Biotope area factor, on the spot", scenConnectivity: "Connection to nature, around it",
    scenCooling: "Cooling capacity, on the spot", scenCanopy: "Tree canopy, on the spot",
    scenWater: "Rain kept", scenCost: "Cost", scenCostPartial: "(without breaking out the paving)",
    scenCostUnknown: "Cost unknown for", scenYears: "Full effect after {n} years.",
    scenNote: "An estimate by fixed rules; the spot itself may differ.", scenSeconds: "computed in {s} s",
    scenName: "Name to save it under", scenNameRule: "Only lower-case letters a–z, digits, - or _ (at most 64).",
    scenSave: "Save", scenSaving: "Saving…", scenSaved: "Saved as ‘{n}’.",
    scenTaken: "The name ‘{n}’ is already taken. Choose another name.",
    scenNoRight: "Only an administrator of this municipality may replace this scenario. Log in or choose another name.",
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
