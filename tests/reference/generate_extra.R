# Extra metafor reference numbers for the engine's tests (beyond ../shared/reference):
# zero-cell handling, the "t" and "adhoc" tests, and logit-proportion (PLO) pooling.
# Usage (from the project root): Rscript tests/reference/generate_extra.R tests/reference/extra.json
# Needs Debian packages r-cran-metafor r-cran-metadat r-cran-jsonlite. Tight control so the
# iterative fits are exact roots.
suppressMessages({ library(metafor); library(jsonlite) })
out <- commandArgs(trailingOnly = TRUE)[1]
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5)

fit <- function(yi, vi, method, test) {
  m <- rma(yi, vi, method = method, test = test, control = tight)
  pz <- predict(m)
  ci <- tryCatch(confint(m, control = list(tol = 1e-12))$random, error = function(e) NULL)
  r <- list(method = method, test = test, k = m$k, estimate = unname(coef(m)), se = m$se,
            ci_lb = m$ci.lb, ci_ub = m$ci.ub, pi_lb = pz$pi.lb, pi_ub = pz$pi.ub, tau2 = m$tau2,
            i2 = m$I2, q = m$QE, pval = m$pval)
  if (!is.null(ci)) { r$tau2_ci_lb <- ci["tau^2", "ci.lb"]; r$tau2_ci_ub <- ci["tau^2", "ci.ub"] }
  r
}

# Zero cells: one zero cell, double zero, double full, no zero.
z <- list(ai = c(0, 0, 3, 10, 5), n1i = c(10, 10, 10, 10, 20), ci = c(2, 0, 4, 10, 9), n2i = c(10, 10, 10, 10, 21))
zero <- list(input = z)
for (ms in c("RR", "OR", "RD")) {
  e0 <- escalc(ms, ai = z$ai, n1i = z$n1i, ci = z$ci, n2i = z$n2i)
  e1 <- escalc(ms, ai = z$ai, n1i = z$n1i, ci = z$ci, n2i = z$n2i, drop00 = TRUE)
  zero[[ms]] <- list(drop00_false = list(yi = as.numeric(e0$yi), vi = as.numeric(e0$vi)),
                     drop00_true = list(yi = as.numeric(e1$yi), vi = as.numeric(e1$vi)))
}

# bcg log risk ratios under the t and adhoc tests.
b <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
tests <- list()
for (meth in c("REML", "DL", "PM")) for (tt in c("t", "adhoc")) tests[[paste(meth, tt, sep = "_")]] <- fit(b$yi, b$vi, meth, tt)
# A homogeneous subset where Knapp-Hartung narrows the interval and adhoc does not.
h <- escalc("RR", ai = c(12, 15, 9, 20), n1i = c(50, 60, 40, 80), ci = c(10, 14, 8, 18), n2i = c(50, 60, 40, 80))
for (tt in c("z", "knha", "adhoc")) tests[[paste("homog_REML", tt, sep = "_")]] <- fit(h$yi, h$vi, "REML", tt)
tests$homog_input <- list(yi = as.numeric(h$yi), vi = as.numeric(h$vi))

# Logit proportions: response rates in the hypericum arms of linde2005 (rows 5, 6, 26 dropped), plus a 0/12 arm.
d <- dat.linde2005[-c(5, 6, 26), ]
xi <- c(d$ai, 0); ni <- c(d$n1i, 12)
p <- escalc("PLO", xi = xi, ni = ni)
plo <- list(input = list(xi = xi, ni = ni), yi = as.numeric(p$yi), vi = as.numeric(p$vi),
            fits = list(REML_z = fit(p$yi, p$vi, "REML", "z"), REML_knha = fit(p$yi, p$vi, "REML", "knha"),
                        DL_z = fit(p$yi, p$vi, "DL", "z")))
pr <- predict(rma(p$yi, p$vi, method = "REML", control = tight), transf = transf.ilogit)
plo$back_transformed <- list(pred = pr$pred, ci_lb = pr$ci.lb, ci_ub = pr$ci.ub, pi_lb = pr$pi.lb, pi_ub = pr$pi.ub)

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")), zero_cells = zero,
                       tests = tests, plo = plo), auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
