# metafor reference numbers for the network meta-analysis engine (src/depmeta/network.py):
# the contrast-based random-effects model rma.mv(yi, V, mods = X - 1, random = ~ comp | study, rho = 1/2)
# fitted by REML, and the same model with tau^2 = 0 (fixed effect), on two metadat networks:
#   senn2013  mean differences (MD) from arm means/SDs, 10 treatments, one three-arm trial;
#   linde2016 log odds ratios given for every pair of arms (13 three-arm trials, one four-arm trial).
# Multi-arm trials: contrasts against the study's baseline arm (its first treatment in byte order,
# as the engine does), covariance (v_AB + v_AC - v_BC) / 2 from the pairwise variances.
# Usage (from the project root):
#   Rscript tests/reference/generate_network.R ../shared/datasets/metadat tests/reference/network.json
# Needs Debian packages r-cran-metafor r-cran-jsonlite. Tight optimiser control so REML is an exact root.
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
datadir <- args[1]
out <- args[2]
tight <- list(optimizer = "BFGS", reltol = 1e-14)  # nlminb stops short at tight tolerances
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(here, "network_contrasts.R"))  # bsort, contrast_data, senn_pairwise

fit_network <- function(p, reference) {
  cd <- contrast_data(p)
  dat <- cd$dat; V <- cd$V
  trts <- bsort(c(dat$t1, dat$t2))
  X <- sapply(trts, function(t) (dat$t1 == t) - (dat$t2 == t))
  X <- X[, trts != reference, drop = FALSE]
  mv <- function(...) rma.mv(dat$yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1/2,
                              struct = "CS", data = dat, method = "REML", ...)
  re0 <- mv(control = tight)
  # polish tau^2: maximise metafor's own restricted log-likelihood over tau^2 in one dimension
  # (Brent's method, far tighter than the multivariate optimiser), then refit with tau^2 fixed there
  opt <- optimize(function(t) as.numeric(logLik(mv(tau2 = t))), c(0, 2 * re0$tau2 + 1e-4),
                  maximum = TRUE, tol = 1e-14)
  re <- mv(tau2 = opt$maximum)
  fe <- rma.mv(dat$yi, V, mods = X, intercept = FALSE, method = "FE", data = dat)
  # every pair (i < j in byte order): estimate of treatment i minus treatment j
  pr <- t(combn(trts, 2))
  L <- t(apply(pr, 1, function(x) (trts == x[1]) - (trts == x[2])))[, trts != reference, drop = FALSE]
  pre <- predict(re, newmods = L)
  pfe <- predict(fe, newmods = L)
  # P-scores (Ruecker & Schwarzer 2015), larger values better, from the REML fit
  b <- as.numeric(L %*% coef(re)); se <- sqrt(diag(L %*% vcov(re) %*% t(L)))
  P <- matrix(NA, length(trts), length(trts), dimnames = list(trts, trts))
  for (r in seq_len(nrow(pr))) {
    P[pr[r, 1], pr[r, 2]] <- pnorm(b[r] / se[r]); P[pr[r, 2], pr[r, 1]] <- 1 - pnorm(b[r] / se[r])
  }
  list(treatments = trts, reference = reference, k_contrasts = nrow(dat), n_studies = length(unique(dat$study)),
       tau2 = re$tau2, tau2_optimiser = re0$tau2, ll_reml = as.numeric(logLik(re)), qe = fe$QE, qe_df = fe$k - fe$p, qe_pval = fe$QEp,
       coef = setNames(as.list(as.numeric(coef(re))), trts[trts != reference]),
       se = as.numeric(re$se), vcov = unname(vcov(re)),
       pairs = list(treatment1 = pr[, 1], treatment2 = pr[, 2],
                    random = list(estimate = as.numeric(pre$pred), se = as.numeric(pre$se),
                                  ci_lb = as.numeric(pre$ci.lb), ci_ub = as.numeric(pre$ci.ub),
                                  pi_lb = as.numeric(pre$pi.lb), pi_ub = as.numeric(pre$pi.ub)),
                    fixed = list(estimate = as.numeric(pfe$pred), se = as.numeric(pfe$se),
                                 ci_lb = as.numeric(pfe$ci.lb), ci_ub = as.numeric(pfe$ci.ub))),
       pscore = setNames(as.list(rowMeans(P, na.rm = TRUE)), trts))
}

sp <- senn_pairwise(file.path(datadir, "senn2013.csv"))

linde <- read.csv(file.path(datadir, "linde2016.csv"), stringsAsFactors = FALSE)
lp <- data.frame(study = as.character(linde$id), t1 = linde$treat1, t2 = linde$treat2, y = linde$lnOR,
                 v = linde$selnOR^2, stringsAsFactors = FALSE)

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")),
                       model = "rma.mv(yi, V, mods = X - 1, random = ~ comp | study, rho = 1/2, method = 'REML')",
                       senn2013 = list(pairwise = sp, fit = fit_network(sp, "placebo")),
                       linde2016 = list(fit = fit_network(lp, "Placebo"))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
