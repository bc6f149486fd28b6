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
# Networks (contrasts against each study's baseline arm, its first treatment in byte order, covariance
# (v_AB + v_AC - v_BC) / 2 from the pairwise variances, as the engine and netmeta's nma.krahn() do):
#   linde2016  netmeta's Linde2016 (../shared/datasets/netmeta/Linde2016.csv): log odds ratios of
#              response for every pair of arms, 93 trials, 22 treatments, multi-arm trials;
#   senn2013   metadat's senn2013 (../shared/datasets/metadat/senn2013.csv): mean differences from the
#              arm means and SDs, 26 trials, 10 treatments, one three-arm trial;
#   linde2016_tcas  the Linde2016 trials comparing TCA, SSRI and Placebo only (designs TCA-Placebo,
#              SSRI-Placebo, SSRI-TCA, one loop): a small network with a multi-arm design.
# Usage (from the project root):
#   Rscript tests/reference/generate_decomp.R ../shared/datasets tests/reference/decomp.json
# Needs Debian packages r-cran-metafor r-cran-jsonlite.
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
datadir <- args[1]
out <- args[2]
bsort <- function(x) sort(unique(x), method = "radix")  # byte order, as Python's sorted()

# Pairwise rows (study, t1, t2, y = t1 - t2, v) -> contrasts vs each study's baseline arm, its design,
# the block-diagonal within-study covariance V and the between-study structure Sigma.
contrast_data <- function(p) {
  rows <- list(); V <- list(); S <- list()
  for (s in unique(p$study)) {
    d <- p[p$study == s, ]
    arms <- bsort(c(d$t1, d$t2)); a <- arms[1]
    pair <- function(x, y) {
      i <- which(d$t1 == x & d$t2 == y); if (length(i)) return(c(d$y[i], d$v[i]))
      i <- which(d$t1 == y & d$t2 == x); c(-d$y[i], d$v[i])
    }
    others <- arms[-1]
    yv <- t(sapply(others, function(b) pair(a, b)))
    B <- diag(yv[, 2], nrow = length(others))
    if (length(others) > 1) for (i in seq_along(others)) for (j in seq_along(others)) if (i != j)
      B[i, j] <- (yv[i, 2] + yv[j, 2] - pair(others[i], others[j])[2]) / 2
    design <- paste(arms, collapse = ":")
    rows[[s]] <- data.frame(study = s, t1 = a, t2 = others, yi = yv[, 1], design = design,
                            cell = paste(design, paste(a, others, sep = " vs "), sep = " / "))
    V[[s]] <- B
    S[[s]] <- matrix(0.5, length(others), length(others)) + diag(0.5, length(others))
  }
  list(dat = do.call(rbind, rows), V = bldiag(V), Sigma = bldiag(S))
}

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
       tau2_within = tau2_within, q_within_df_check = intw$k - intw$p,
       q_between_random = q_random, q_between_random_df = df_between,
       q_between_random_pval = if (df_between > 0) pchisq(q_random, df_between, lower.tail = FALSE) else NA)
}

linde <- read.csv(file.path(datadir, "netmeta", "Linde2016.csv"), stringsAsFactors = FALSE)
lp <- data.frame(study = as.character(linde$id), t1 = linde$treat1, t2 = linde$treat2, y = linde$lnOR,
                 v = linde$selnOR^2, stringsAsFactors = FALSE)
tcas <- c("TCA", "SSRI", "Placebo")
lp3 <- lp[lp$t1 %in% tcas & lp$t2 %in% tcas, ]

# Senn 2013: mean differences from the arms (escalc "MD": v = sd1^2/n1 + sd2^2/n2) for every pair.
senn <- read.csv(file.path(datadir, "metadat", "senn2013.csv"), stringsAsFactors = FALSE)
sp <- do.call(rbind, lapply(split(senn, senn$study), function(d) {
  cb <- combn(nrow(d), 2)
  do.call(rbind, lapply(seq_len(ncol(cb)), function(c) {
    i <- cb[1, c]; j <- cb[2, c]
    e <- escalc("MD", m1i = d$mi[i], sd1i = d$sdi[i], n1i = d$ni[i], m2i = d$mi[j], sd2i = d$sdi[j], n2i = d$ni[j])
    data.frame(study = d$study[1], t1 = d$treatment[i], t2 = d$treatment[j], y = as.numeric(e$yi),
               v = as.numeric(e$vi))
  }))
}))

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")),
                       model = paste("Q.inc.random: QE(rma.mv(yi, V + tau2_within * Sigma, mods = X - 1, method = 'FE'))",
                                     "- QE(rma.mv(yi, V + tau2_within * Sigma, mods = design x contrast - 1, method = 'FE'))"),
                       linde2016 = decomp(lp, "Placebo"),
                       linde2016_tcas = c(list(studies = sort(unique(lp3$study))), decomp(lp3, "Placebo")),
                       senn2013 = c(list(pairwise = sp), decomp(sp, "placebo"))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
