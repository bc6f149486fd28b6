# metafor reference for the Metapsy analyses: psychotherapy vs control on the shared copy of the
# depression-psyctr database (read as metapsyData does: ';' separated, decimal commas, NA).
# Usage (from the project root):
#   Rscript tests/reference/generate_metapsy.R ../shared/datasets/metapsy/depression-psyctr.csv tests/reference/metapsy.json
# Only pooled numbers are written, never the data. Sign: this project's g = -(.g).
# Every fit with metafor's default z test; overall_knha: the overall fit with test = "knha" (the protocol's
# default Knapp-Hartung test, t with k - 1 df for the CI and, in predict(), for the prediction interval).
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], sep = ";", dec = ",", na.strings = "NA", encoding = "UTF-8", check.names = FALSE)
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5)
fit <- function(x, test = "z") {
  m <- rma(yi = -x$.g, sei = x$.g_se, method = "REML", measure = "GEN", test = test, control = tight)
  list(k = m$k, estimate = unname(coef(m)), se = m$se, ci_lb = m$ci.lb, ci_ub = m$ci.ub, tau2 = m$tau2,
       i2 = m$I2, q = m$QE, pi_lb = predict(m)$pi.lb, pi_ub = predict(m)$pi.ub)
}
out <- list(rows = nrow(d), overall = fit(d), overall_knha = fit(d, "knha"),
            control_type = lapply(split(d, d$condition_arm2), fit),
            therapy_type = lapply(split(d, d$condition_arm1), fit),
            low_rob = fit(d[d$rob > 2, ]))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), args[2])
