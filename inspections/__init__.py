"""The work itself: inspection plans and 双随机 draws, inspections against checklists, hazards and
their closed loop (隐患闭环), and grid workers' patrols."""
