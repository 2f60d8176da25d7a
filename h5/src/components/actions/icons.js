// A Vant icon for each scenario of the rulebook; a flower for any scenario added later.
const ICONS = {
  bus_ride: 'logistics',
  brt_ride: 'logistics',
  cycling: 'guide-o',
  walking: 'location-o',
  nev_driving: 'logistics',
  ev_charging: 'fire-o',
  waste_sorting: 'delete-o',
  recyclables: 'replay',
  pv_generation: 'star-o',
  pv_installation: 'wap-home-o',
  electricity_saving: 'bulb-o',
  clean_plate: 'smile-o',
  own_bag: 'bag-o',
  taishan_zero_waste: 'photo-o',
  tree_planting: 'flower-o',
}

export function scenarioIcon(id) {
  return ICONS[id] || 'flower-o'
}
