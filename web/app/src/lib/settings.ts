// Settings of this phone: the map tile URL (天地图 or a county's own tile server; empty: no tiles).
import { ref, watch } from 'vue'

export const tileUrl = ref(localStorage.getItem('anxun.app.tiles') ?? '')
watch(tileUrl, (value) => localStorage.setItem('anxun.app.tiles', value))
