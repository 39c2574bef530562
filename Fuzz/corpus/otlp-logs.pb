
ç


service.name

paymentsÆÃ	Â­)(í2"
dedup_vitals.operation
refund2
dedup_vitals.outcome
miss2
dedup_vitals.key
k12
dedup_vitals.age_ms2
other
xJ	
Rbdedup_vitals.decision	Â­)(í2
foo
bare2"
dedup_vitals.operation
refund2
dedup_vitals.outcome
bogusYÂ­)(íbdedup_vitals.decision