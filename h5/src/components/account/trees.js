// The everyday comparison on the home page: how many trees absorb the resident's reduction in a year.
//
// A mature tree absorbs about 48 lb (21.8 kg) of CO2 a year: Arbor Day Foundation, "Trees are terrific… in so
// many ways" (https://www.arborday.org/trees/treefacts/), a figure also used by the European Environment Agency
// ("a mature tree absorbs roughly 22 kg of carbon dioxide per year", EEA Signals 2015, "Trees help tackle climate
// change"). See docs/h5.md. It is an illustration, not a certified equivalence: real uptake varies by species,
// age and climate.
export const TREE_GRAMS_PER_YEAR = 21_800

/**
 * The comparison for a reduction in grams: ``{ unit: 'years', n }`` trees for a year (one decimal below ten,
 * whole trees above) from one tenth of a tree-year up; below that, ``{ unit: 'days', n }``: the days one tree
 * takes to absorb it (whole days, at least one), so that a first walk never reads "0 trees".
 * ``null`` when there is nothing to compare.
 */
export function treeComparison(grams) {
  const trees = Math.max(0, grams) / TREE_GRAMS_PER_YEAR
  if (trees === 0) return null
  if (trees >= 0.1) return { unit: 'years', n: trees < 10 ? Math.round(trees * 10) / 10 : Math.round(trees) }
  return { unit: 'days', n: Math.max(1, Math.round(trees * 365)) }
}
