# Reference numbers for the random-effects design-by-treatment interaction test of the network engine
# (src/depmeta/stats/network.py: tau2_within, q_between_random, q_between_random_df, q_between_random_pval),
# the statistic netmeta reports as decomp.design(...)$Q.inc.random and the CINeMA application's incoherence
# rule reads.
#
# netmeta cannot be installed here, so its quantities are rebuilt from their definitions (netmeta's
# tau.within() and decomp.tau()) with metafor:
#   1. the full design-by-treatment interaction model: rma.mv(yi, V, mods = one column per design and
#      contrast, method = "FE"), whose QE is the within-designs Q on k - p df;
#   2. tau2_within, the multivariate method of moments (Jackson, White & Riley 2012) in that model,
#      max(0, (QE - df) / tr(P Sigma)), P = W (I - H) from metafor's hat matrix of that fit
#      (hatvalues(type = "matrix")), W = V^-1, Sigma the between-study structure (1 on the diagonal,
#      1/2 between the contrasts of a multi-arm study); 0 when df is 0;
#   3. the consistency model (treatment effects, X - 1) and the interaction model refitted with
#      metafor as equal-effects models on V + tau2_within * Sigma: Q.inc.random is the difference of
#      their QE, on the difference of their residual df.
# The fixed-effect decomposition (tau^2 = 0) is written beside it.
#
# Networks (network_contrasts.R: contrasts against each study's baseline arm, its first treatment in byte
# order, covariance (v_AB + v_AC - v_BC) / 2 from the pairwise variances, as the engine and netmeta's
# nma.krahn() do):
#   linde2016  netmeta's Linde2016 (../shared/datasets/netmeta/Linde2016.csv): log odds ratios of
#              response for every pair of arms, 93 trials, 22 treatments, multi-arm trials;
#   senn2013   metadat's senn2013 (../shared/datasets/metadat/senn2013.csv): mean differences from the
#              arm means and SDs, 26 trials, 10 treatments, one three-arm trial;
#   linde2016_tcas  the Linde2016 rows comparing TCA, SSRI and Placebo only (32 trials; designs TCA-Placebo,
#              SSRI-Placebo, SSRI-TCA and one three-arm trial of all three): a small network whose moment
#              estimate of tau2_within is truncated at 0.
# Usage (from the project root):
#   Rscript tests/reference/generate_decomp.R ../shared/datasets tests/reference/decomp.json
# Needs Debian packages r-cran-metafor r-cran-jsonlite.
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
datadir <- args[1]
out <- args[2]
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(here, "network_contrasts.R"))  # bsort, contrast_data, senn_pairwise

decomp <- function(p, reference) {
  cd <- contrast_data(p)
  dat <- cd$dat; V <- cd$V; Sigma <- cd$Sigma
  trts <- bsort(c(dat$t1, dat$t2))
  X <- sapply(trts, function(t) (dat$t1 == t) - (dat$t2 == t))
  X <- X[, trts != reference, drop = FALSE]
  Xi <- sapply(unique(dat$cell), function(cl) as.numeric(dat$cell == cl))  # one column per design x contrast
  fe <- function(Vm, mods) rma.mv(dat$yi, Vm, mods = mods, intercept = FALSE, method = "FE")
  cons0 <- fe(V, X); int0 <- fe(V, Xi)
  df_within <- int0$k - int0$p
  tau2_within <- 0
  if (df_within > 0) {
    P <- solve(V) %*% (diag(nrow(V)) - hatvalues(int0, type = "matrix"))
    tau2_within <- max(0, (int0$QE - df_within) / sum(diag(P %*% Sigma)))
  }
  Vw <- V + tau2_within * Sigma
  consw <- fe(Vw, X); intw <- fe(Vw, Xi)
  df_between <- (consw$k - consw$p) - (intw$k - intw$p)
  q_random <- consw$QE - intw$QE
  list(treatments = trts, n_studies = length(unique(dat$study)), n_designs = length(unique(dat$design)),
       k_contrasts = nrow(dat),
       q_total = cons0$QE, q_total_df = cons0$k - cons0$p, q_within = int0$QE, q_within_df = df_within,
       q_between = cons0$QE - int0$QE, q_between_df = df_between,
       tau2_within = tau2_within,
       q_between_random = q_random, q_between_random_df = df_between,
       q_between_random_pval = if (df_between > 0) pchisq(q_random, df_between, lower.tail = FALSE) else NA)
}

linde <- read.csv(file.path(datadir, "netmeta", "Linde2016.csv"), stringsAsFactors = FALSE)
lp <- data.frame(study = as.character(linde$id), t1 = linde$treat1, t2 = linde$treat2, y = linde$lnOR,
                 v = linde$selnOR^2, stringsAsFactors = FALSE)
tcas <- c("TCA", "SSRI", "Placebo")
lp3 <- lp[lp$t1 %in% tcas & lp$t2 %in% tcas, ]

sp <- senn_pairwise(file.path(datadir, "metadat", "senn2013.csv"))

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")),
                       model = paste("Q.inc.random: QE(rma.mv(yi, V + tau2_within * Sigma, mods = X - 1, method = 'FE'))",
                                     "- QE(rma.mv(yi, V + tau2_within * Sigma, mods = design x contrast - 1, method = 'FE'))"),
                       linde2016 = decomp(lp, "Placebo"),
                       linde2016_tcas = c(list(studies = sort(unique(lp3$study))), decomp(lp3, "Placebo")),
                       senn2013 = c(list(pairwise = sp), decomp(sp, "placebo"))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
