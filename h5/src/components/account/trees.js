// The everyday comparison on the home page: how many trees absorb the resident's reduction in a year.
//
// A mature tree absorbs about 48 lb (21.8 kg) of CO2 a year: Arbor Day Foundation, "Trees are terrific… in so
// many ways" (https://www.arborday.org/trees/treefacts/), a figure also used by the European Environment Agency
// ("a mature tree absorbs roughly 22 kg of carbon dioxide per year", EEA Signals 2015, "Trees help tackle climate
// change"). See docs/h5.md. It is an illustration, not a certified equivalence: real uptake varies by species,
// age and climate.
export const TREE_GRAMS_PER_YEAR = 21_800

/** Trees-years for a reduction in grams: one decimal below ten, whole trees above. */
export function treeYears(grams) {
  const trees = Math.max(0, grams) / TREE_GRAMS_PER_YEAR
  return trees < 10 ? Math.round(trees * 10) / 10 : Math.round(trees)
}
