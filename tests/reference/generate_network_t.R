# metafor reference numbers for the network engine's t-based intervals (src/depmeta/stats/network.py,
# fit_network(test = "t")): the contrast-based random-effects model
# rma.mv(yi, V, mods = X - 1, random = ~ comp | study, rho = 1/2, test = "t") fitted by REML, and the same
# model with tau^2 = 0 (method = "FE", test = "t"). Under test = "t" metafor keeps the standard errors and
# takes its quantiles from a t distribution with k - p degrees of freedom (k contrasts, p treatment
# effects; rma.mv's dfs = "residual"), for the confidence intervals and, in predict(), for the prediction
# intervals alike: pred +- qt(1 - alpha / 2, k - p) * sqrt(se^2 + tau^2).
# Networks: metadat's senn2013 (mean differences from the arms; 27 contrasts, 9 effects, 18 df), a part of
# it (De Fronzo 1995, Lewin 2007 and the three-arm Willms 1999: 4 contrasts, 2 effects, 2 df) and
# linde2016 (log odds ratios given for every pair of arms).
# Usage (from the project root):
#   Rscript tests/reference/generate_network_t.R ../shared/datasets/metadat tests/reference/network_t.json
# Needs Debian packages r-cran-metafor r-cran-jsonlite.
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
datadir <- args[1]
out <- args[2]
tight <- list(optimizer = "BFGS", reltol = 1e-14)  # nlminb stops short at tight tolerances
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(here, "network_contrasts.R"))  # bsort, contrast_data, senn_pairwise

fit_t <- function(p, reference) {
  cd <- contrast_data(p)
  dat <- cd$dat; V <- cd$V
  trts <- bsort(c(dat$t1, dat$t2))
  X <- sapply(trts, function(t) (dat$t1 == t) - (dat$t2 == t))
  X <- X[, trts != reference, drop = FALSE]
  mv <- function(...) rma.mv(dat$yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1/2,
                              struct = "CS", data = dat, method = "REML", test = "t", ...)
  re0 <- mv(control = tight)
  # polish tau^2 as generate_network.R does: Brent's method on metafor's restricted log-likelihood
  opt <- optimize(function(t) as.numeric(logLik(mv(tau2 = t))), c(0, 2 * re0$tau2 + 1e-4),
                  maximum = TRUE, tol = 1e-14)
  re <- mv(tau2 = opt$maximum)
  fe <- rma.mv(dat$yi, V, mods = X, intercept = FALSE, method = "FE", test = "t", data = dat)
  pr <- t(combn(trts, 2))
  L <- t(apply(pr, 1, function(x) (trts == x[1]) - (trts == x[2])))[, trts != reference, drop = FALSE]
  pre <- predict(re, newmods = L)
  pfe <- predict(fe, newmods = L)
  list(treatments = trts, reference = reference, k_contrasts = nrow(dat), n_parameters = ncol(X),
       ddf = as.numeric(re$ddf[1]), pred_ddf = as.numeric(pre$ddf[1]), pi_ddf = as.numeric(pre$pi.ddf[1]),
       tau2 = re$tau2,
       pairs = list(treatment1 = pr[, 1], treatment2 = pr[, 2],
                    random = list(estimate = as.numeric(pre$pred), se = as.numeric(pre$se),
                                  ci_lb = as.numeric(pre$ci.lb), ci_ub = as.numeric(pre$ci.ub),
                                  pi_lb = as.numeric(pre$pi.lb), pi_ub = as.numeric(pre$pi.ub)),
                    fixed = list(estimate = as.numeric(pfe$pred), se = as.numeric(pfe$se),
                                 ci_lb = as.numeric(pfe$ci.lb), ci_ub = as.numeric(pfe$ci.ub))))
}

sp <- senn_pairwise(file.path(datadir, "senn2013.csv"))
part <- sp[sp$study %in% c("De Fronzo (1995)", "Lewin (2007)", "Willms (1999)"), ]

linde <- read.csv(file.path(datadir, "linde2016.csv"), stringsAsFactors = FALSE)
lp <- data.frame(study = as.character(linde$id), t1 = linde$treat1, t2 = linde$treat2, y = linde$lnOR,
                 v = linde$selnOR^2, stringsAsFactors = FALSE)

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")),
                       model = paste("rma.mv(yi, V, mods = X - 1, random = ~ comp | study, rho = 1/2,",
                                     "method = 'REML', test = 't'); predict()"),
                       senn2013 = list(pairwise = sp, fit = fit_t(sp, "placebo")),
                       senn2013_part = list(pairwise = part, fit = fit_t(part, "placebo")),
                       linde2016 = list(fit = fit_t(lp, "Placebo"))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
