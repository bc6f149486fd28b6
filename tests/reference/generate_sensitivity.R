# metafor reference numbers for the sensitivity analyses and small-study tests
# (beyond the diagnostics in ../shared/reference): cumulative meta-analysis, GOSH,
# trim-and-fill under tight control, PET-PEESE, and leave-one-out / influence under Knapp-Hartung.
# Usage (from the project root): Rscript tests/reference/generate_sensitivity.R tests/reference/sensitivity.json
# Needs Debian packages r-cran-metafor r-cran-metadat r-cran-jsonlite. Tight control so the
# iterative fits are exact roots.
suppressMessages({ library(metafor); library(jsonlite) })
out <- commandArgs(trailingOnly = TRUE)[1]
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5)

b <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
n <- dat.normand1999
s <- escalc("SMD", m1i = n$m1i, sd1i = n$sd1i, n1i = n$n1i, m2i = n$m2i, sd2i = n$sd2i, n2i = n$n2i)
d <- dat.linde2005[-c(5, 6, 26), ]
l <- escalc("RR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
l <- l[!is.na(l$yi), ]
data <- list(bcg = list(yi = as.numeric(b$yi), vi = as.numeric(b$vi), year = dat.bcg$year),
             normand1999 = list(yi = as.numeric(s$yi), vi = as.numeric(s$vi)),
             linde2005 = list(yi = as.numeric(l$yi), vi = as.numeric(l$vi)))

cum <- function(x) list(estimate = x$estimate, se = x$se, stat = x[[3]], pval = x$pval, ci_lb = x$ci.lb,
                        ci_ub = x$ci.ub, q = x$Q, q_pval = x$Qp, tau2 = x$tau2, i2 = x$I2, h2 = x$H2)
cumul_ref <- list()
for (meth in c("REML", "DL")) {
  m <- rma(b$yi, b$vi, method = meth, control = tight)
  cumul_ref[[paste0(meth, "_year")]] <- c(list(order = order(dat.bcg$year)), cum(cumul(m, order = dat.bcg$year)))
  cumul_ref[[paste0(meth, "_precision")]] <- c(list(order = order(b$vi)), cum(cumul(m, order = b$vi)))
}

gosh_ref <- list()
for (meth in c("REML", "DL", "EE")) {
  m <- rma(s$yi, s$vi, method = meth, control = tight)
  g <- gosh(m)
  gosh_ref[[meth]] <- list(incl = unname(apply(g$incl, 1, function(r) paste(as.integer(r), collapse = ""))),
                           k = g$res$k, q = g$res$QE, i2 = g$res$I2, h2 = g$res$H2, tau2 = g$res$tau2,
                           estimate = g$res$estimate)
}

tf_ref <- list()
for (nm in c("bcg", "linde2005", "normand1999")) {
  m <- rma(data[[nm]]$yi, data[[nm]]$vi, method = "REML", control = tight)
  tf <- trimfill(m, control = tight)
  r0 <- trimfill(m, estimator = "R0", control = tight)
  pet <- regtest(m, model = "lm", predictor = "sei")
  peese <- regtest(m, model = "lm", predictor = "vi")
  tf_ref[[nm]] <- list(
    trimfill = list(k0 = tf$k0, se_k0 = tf$se.k0, side = tf$side, estimate = unname(coef(tf)), se = tf$se,
                    tau2 = tf$tau2, ci_lb = tf$ci.lb, ci_ub = tf$ci.ub, yi_fill = as.numeric(tf$yi[tf$fill]),
                    vi_fill = as.numeric(tf$vi[tf$fill])),
    trimfill_r0 = list(k0 = r0$k0, se_k0 = r0$se.k0, side = r0$side, estimate = unname(coef(r0))),
    pet = list(est = pet$est, ci_lb = pet$ci.lb, ci_ub = pet$ci.ub, stat = pet$zval, pval = pet$pval),
    peese = list(est = peese$est, ci_lb = peese$ci.lb, ci_ub = peese$ci.ub, stat = peese$zval, pval = peese$pval),
    regtest_knha = with(regtest(m, test = "knha"), list(stat = zval, pval = pval, df = dfs, est = est)))
}

infl_ref <- list()
for (tt in c("z", "knha")) for (meth in c("REML", "DL")) {
  m <- rma(b$yi, b$vi, method = meth, test = tt, control = tight)
  inf <- influence(m)
  l1 <- leave1out(m)
  infl_ref[[paste(meth, tt, sep = "_")]] <- list(
    rstudent = inf$inf$rstudent, dffits = inf$inf$dffits, cook_d = inf$inf$cook.d, cov_r = inf$inf$cov.r,
    tau2_del = inf$inf$tau2.del, qe_del = inf$inf$QE.del, hat = inf$inf$hat, weight = inf$inf$weight,
    dfbetas = inf$dfbs[[1]], influential = as.logical(inf$is.infl),
    l1_estimate = l1$estimate, l1_se = l1$se, l1_stat = l1[[3]], l1_pval = l1$pval, l1_ci_lb = l1$ci.lb,
    l1_ci_ub = l1$ci.ub, l1_q = l1$Q, l1_q_pval = l1$Qp, l1_tau2 = l1$tau2, l1_i2 = l1$I2, l1_h2 = l1$H2)
}

one <- rma(0.3, 0.04, method = "REML")
single <- list(yi = 0.3, vi = 0.04, estimate = unname(coef(one)), se = one$se, tau2 = one$tau2, q = one$QE,
               i2 = one$I2, h2 = one$H2)

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")), data = data, cumul = cumul_ref,
                       gosh = gosh_ref, small_study = tf_ref, influence = infl_ref, single_study = single),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
