"""Reports: monthly figures (月排名、月通报), the hazard ledger as .xlsx (隐患台账), the risk map as GeoJSON
(四色安全风险空间分布图)."""
