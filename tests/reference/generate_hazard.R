# metafor reference for the generic inverse-variance pooling of log hazard ratios.
# Usage (from the project root): Rscript tests/reference/generate_hazard.R tests/reference/hazard.json
# The numbers are SIMULATED, not published: no metadat dataset holds hazard ratios. They are shaped as a
# sheet would hold them: four rows as HR with a 95% CI rounded to two decimals (as printed), two as log HR
# with its SE. The SE of a log HR from its CI is (log(ci_high) - log(ci_low)) / (2 * qnorm(0.975)).
suppressMessages({ library(metafor); library(jsonlite) })
out <- commandArgs(trailingOnly = TRUE)[1]
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5)

hr <- c(0.54, 0.71, 1.08, 0.46, NA, NA)
ci_low <- c(0.34, 0.45, 0.62, 0.28, NA, NA)
ci_high <- c(0.86, 1.12, 1.88, 0.76, NA, NA)
log_hr <- c(NA, NA, NA, NA, -0.2107, -0.6931)
se_log_hr <- c(NA, NA, NA, NA, 0.1893, 0.3120)
yi <- ifelse(is.na(hr), log_hr, log(hr))
sei <- ifelse(is.na(hr), se_log_hr, (log(ci_high) - log(ci_low)) / (2 * qnorm(0.975)))
e <- escalc(measure = "GEN", yi = yi, sei = sei)

fit <- function(method) {
  m <- rma(yi, vi, data = e, method = method, measure = "GEN", control = tight)
  pz <- predict(m, transf = exp)
  list(method = method, k = m$k, estimate = unname(coef(m)), se = m$se, ci_lb = m$ci.lb, ci_ub = m$ci.ub,
       pi_lb = predict(m)$pi.lb, pi_ub = predict(m)$pi.ub, hr = pz$pred, hr_ci_lb = pz$ci.lb, hr_ci_ub = pz$ci.ub,
       tau2 = m$tau2, i2 = m$I2, q = m$QE, pval = m$pval, weights = unname(weights(m)) / 100)
}
res <- list(
  note = "simulated hazard ratios (no metadat dataset has them); see generate_hazard.R",
  input = list(hr = hr, ci_low = ci_low, ci_high = ci_high, log_hr = log_hr, se_log_hr = se_log_hr),
  escalc = list(yi = as.numeric(e$yi), vi = as.numeric(e$vi)),
  fits = list(REML = fit("REML"), DL = fit("DL"), EE = fit("EE"))
)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, na = "null", pretty = TRUE), out)
