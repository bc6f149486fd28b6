# metafor reference numbers for meta-regression, subgroup analyses and permutation tests
# (src/depmeta/regression.py; tests/test_regression.py).
# Usage (from the project root): Rscript tests/reference/generate_regression.R tests/reference/regression.json
# Needs Debian packages r-cran-metafor r-cran-metadat r-cran-jsonlite. Tight control so the
# iterative fits are exact roots.
suppressMessages({ library(metafor); library(jsonlite) })
out <- commandArgs(trailingOnly = TRUE)[1]
tight <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000, stepadj = 0.5)

b <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
b$label <- paste(b$author, b$year)

regfit <- function(m) {
  r <- list(method = m$method, test = m$test, k = m$k, p = m$p,
            coef = unname(c(coef(m))), se = unname(m$se), stat = unname(m$zval), pval = unname(m$pval),
            ci_lb = unname(m$ci.lb), ci_ub = unname(m$ci.ub), tau2 = m$tau2,
            qm = m$QM, qm_df = m$QMdf[1], qm_pval = m$QMp, qe = m$QE, qe_df = m$k - m$p, qe_pval = m$QEp,
            i2 = m$I2, h2 = m$H2, r2 = if (is.null(m$R2)) NA else m$R2)
  if (m$test != "z") { r$df <- m$ddf[1]; r$qm_df2 <- m$QMdf[2] }
  r
}

models <- list(ablat = ~ ablat, year = ~ year, ablat_year = ~ ablat + year)
regression <- list()
for (nm in names(models)) for (meth in c("REML", "ML", "DL", "HE", "PM", "SJ", "EE")) for (tt in c("z", "knha")) {
  if (meth == "EE" && tt == "knha") next
  m <- rma(yi, vi, mods = models[[nm]], data = b, method = meth, test = tt, control = tight)
  regression[[paste(nm, meth, tt, sep = "_")]] <- c(list(model = nm), regfit(m))
}

# Subgroups by allocation. Common tau²: one model with the factor as moderator (QM = between-group Q).
subgroups <- list()
for (meth in c("REML", "DL")) {
  m <- rma(yi, vi, mods = ~ factor(alloc), data = b, method = meth, control = tight)
  subgroups[[paste0("common_", meth)]] <- list(method = meth, tau2 = m$tau2, qm = m$QM, qm_df = m$QMdf[1],
                                               qm_pval = m$QMp, qe = m$QE, qe_pval = m$QEp)
  # Group estimates under the common tau² (cell-means coding).
  mc <- rma(yi, vi, mods = ~ factor(alloc) - 1, data = b, method = meth, control = tight)
  subgroups[[paste0("common_", meth)]]$groups <- sub("factor\\(alloc\\)", "", rownames(coef(summary(mc))))
  subgroups[[paste0("common_", meth)]]$estimate <- unname(c(coef(mc)))
  subgroups[[paste0("common_", meth)]]$se <- unname(mc$se)
  # Separate tau²: one rma per group, then an equal-effects model on the group estimates.
  grp <- sort(unique(b$alloc))
  fits <- lapply(grp, function(g) rma(yi, vi, data = b, subset = alloc == g, method = meth, control = tight))
  est <- sapply(fits, function(f) c(coef(f))); se <- sapply(fits, function(f) f$se)
  fe <- rma(est, sei = se, mods = ~ factor(grp), method = "EE")
  fe0 <- rma(est, sei = se, method = "EE")
  subgroups[[paste0("separate_", meth)]] <- list(method = meth, groups = grp, k = sapply(fits, function(f) f$k),
    estimate = unname(est), se = unname(se), tau2 = sapply(fits, function(f) f$tau2),
    q_within = sapply(fits, function(f) f$QE), qm = fe$QM, qm_df = fe$QMdf[1], qm_pval = fe$QMp,
    q_between = fe0$QE, q_between_pval = fe0$QEp)
}
subgroups$input <- list(label = b$label, alloc = b$alloc, yi = as.numeric(b$yi), vi = as.numeric(b$vi),
                        ablat = b$ablat, year = b$year)

# Exact permutation tests. Seeded (approximate) tests are not compared: R's and numpy's
# random streams differ, so only the exact enumeration has a reference value.
perm <- list()
s7 <- b[1:7, ]   # ablat has a tie (44 twice): 7!/2! = 2520 distinct permutations
for (tt in c("z", "knha")) {
  m <- rma(yi, vi, mods = ~ ablat, data = s7, method = "REML", test = tt, control = tight)
  p <- permutest(m, exact = TRUE, progbar = FALSE)
  perm[[paste0("ablat7_REML_", tt)]] <- list(rows = 1:7, moderator = "ablat", method = "REML", test = tt,
    iterations = p$exact.iter, stat = unname(m$zval), pval = unname(p$pval), qm = m$QM, qm_pval = p$QMp)
}
m <- rma(yi, vi, mods = ~ ablat, data = s7, method = "DL", control = tight)
p <- permutest(m, exact = TRUE, progbar = FALSE)
perm$ablat7_DL_z <- list(rows = 1:7, moderator = "ablat", method = "DL", test = "z", iterations = p$exact.iter,
                         stat = unname(m$zval), pval = unname(p$pval), qm = m$QM, qm_pval = p$QMp)
s9 <- b[1:9, ]   # two allocation groups there (7 random, 2 alternate): 9!/(7!2!) = 36 distinct assignments
m <- rma(yi, vi, mods = ~ factor(alloc), data = s9, method = "REML", control = tight)
p <- permutest(m, exact = TRUE, progbar = FALSE)
perm$alloc9_REML_z <- list(rows = 1:9, moderator = "alloc", method = "REML", test = "z", iterations = p$exact.iter,
                           stat = unname(m$zval), pval = unname(p$pval), qm = m$QM, qm_pval = p$QMp)
s10 <- b[1:10, ] # intercept only: 2^10 sign flips
m <- rma(yi, vi, data = s10, method = "REML", control = tight)
p <- permutest(m, exact = TRUE, progbar = FALSE)
perm$intercept10_REML_z <- list(rows = 1:10, moderator = "", method = "REML", test = "z", iterations = p$exact.iter,
                                stat = unname(m$zval), pval = unname(p$pval), qm = m$QM, qm_pval = p$QMp)

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")), regression = regression,
                       subgroups = subgroups, permutest = perm),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
