# Reference numbers for depmeta.stats.absolute (tests/test_certainty.py), from base R (stats):
# optimal information size (power.prop.test / the normal-approximation two-sample
# size for a standardised difference) and the Furukawa-Leucht SMD -> risk conversion.
# Usage (from the project root): Rscript tests/reference/generate_certainty.R tests/reference/certainty.json
suppressMessages(library(jsonlite))
out <- commandArgs(trailingOnly = TRUE)[1]

# power.prop.test solves the same normal-approximation equation as Fleiss (no continuity
# correction); tol tightened so n is the exact root.
ois <- lapply(list(c(0.4, 0.25), c(0.1, 0.25), c(0.6, 0.2), c(0.3, 0.3)), function(a) {
  p1 <- a[1]; p2 <- a[1] * (1 - a[2])
  n <- power.prop.test(p1 = p1, p2 = p2, sig.level = 0.05, power = 0.8, tol = 1e-12)$n
  list(acr = a[1], rrr = a[2], n_per_group = n, total = 2 * ceiling(n))
})
# continuous: n per group = 2 (z_a + z_b)^2 / d^2 (normal approximation)
smd_ois <- lapply(c(0.2, 0.5), function(d) {
  n <- 2 * (qnorm(0.975) + qnorm(0.8))^2 / d^2
  list(smd = d, n_per_group = n, total = 2 * ceiling(n))
})
# Furukawa & Leucht 2011: EER = pnorm(qnorm(CER) + d), d in the good direction
fl <- lapply(list(c(-0.5, 0.2), c(-0.2, 0.4), c(0.3, 0.5), c(-0.8, 0.1)), function(a) {
  g <- a[1]; cer <- a[2]
  list(g = g, cer = cer, eer = pnorm(qnorm(cer) - g))
})
writeLines(toJSON(list(ois = ois, smd_ois = smd_ois, furukawa = fl), auto_unbox = TRUE, digits = NA), out)
