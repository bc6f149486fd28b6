# metafor reference for averaging a trial's SMDs over several scales (analysis.scales.rule
# average): metafor's aggregate.escalc with struct = "CS" (one correlation rho between the SMDs
# of one trial, as metapsyTools assumes), weighted = TRUE (the inverse-variance weighted mean of
# the correlated SMDs and its variance, 1 / (1' V^-1 1)).
# Usage (from the project root): Rscript tests/reference/generate_scales.R tests/reference/scales.json
# The input is a fixed set of arm-level means (two trials of two or three scales, one of one scale).
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
d <- data.frame(
  trial = c("a", "a", "b", "b", "b", "c"),
  m1i = c(12.1, 15.2, 9.4, 20.3, 7.7, 30.0), sd1i = c(6.2, 9.8, 4.9, 10.5, 5.1, 11.0),
  n1i = c(40, 40, 55, 53, 55, 21),
  m2i = c(15.4, 19.9, 11.0, 24.8, 9.9, 29.1), sd2i = c(6.9, 10.4, 5.3, 11.2, 4.6, 12.3),
  n2i = c(38, 38, 51, 50, 51, 24))
es <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
agg <- function(rho) {
  a <- aggregate(es, cluster = trial, struct = "CS", rho = rho)
  list(rho = rho, trial = a$trial, yi = as.numeric(a$yi), vi = as.numeric(a$vi))
}
out <- list(metafor = as.character(packageVersion("metafor")), data = as.list(d),
            yi = as.numeric(es$yi), vi = as.numeric(es$vi),
            aggregated = lapply(c(0, 0.3, 0.5, 0.8), agg))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), args[1])
