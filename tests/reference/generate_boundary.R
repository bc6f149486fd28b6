# metafor reference numbers for the engine at its boundaries (tests/test_boundary.py):
#   1. REML/ML at a local maximum: metafor's ll0check compares the (restricted) log-likelihood
#      at tau^2 = 0 with the one at the Fisher-scoring root and sets tau^2 = 0 where the former
#      is higher (by more than control tol = eps^0.25, with tau^2 above threshold = 1e-5):
#      dat.pritz1997 as logit proportions, studies 3, 6, 7, 8, 9 (intercept only), and
#      dat.bcg log risk ratios, studies 2, 5, 7, 9, 11, 12, with absolute latitude as moderator.
#      Each also with ll0check = FALSE (the root the scoring reaches) and both log-likelihoods.
#   1b. Two peaks: synthetic small datasets (tests/reference/two_peaks_input.json) whose ML/REML
#      likelihood has two peaks, fitted by metafor's Fisher scoring (its default steps, run to
#      convergence: tol and threshold 1e-12, maxiter 10000); tau², coefficients and the
#      log-likelihood at metafor's root.
#   2. One study under Knapp-Hartung: metafor falls back to the z test (with a warning).
#   3. Standardised mean differences of multi-arm trials with one standardiser per trial:
#      dat.senn2013 (one three-arm trial), every trial's arms against its first arm in byte
#      order. metafor has no function for this, so the arithmetic is written out here:
#        pooled SD s = sqrt(sum((n_i - 1) sd_i^2) / (N - a)) over the trial's a arms (N patients),
#        g_b = J(N - a) (m_1 - m_b) / s with metafor's exact J (.cmicalc),
#        var(g_b) = 1/n_1 + 1/n_b + g_b^2 / (2 N), cov(g_b, g_c) = 1/n_1 + g_b g_c / (2 N),
#      which for a two-arm trial is escalc("SMD") exactly (checked below); the network of these
#      contrasts is then fitted with rma.mv(random = ~ comp | study, rho = 1/2), REML.
# Usage (from the project root): Rscript tests/reference/generate_boundary.R tests/reference/boundary.json
# (reads tests/reference/two_peaks_input.json beside it)
# Needs Debian packages r-cran-metafor r-cran-metadat r-cran-jsonlite.
suppressMessages({ library(metafor); library(jsonlite) })
out <- commandArgs(trailingOnly = TRUE)[1]

fit_summary <- function(m) list(tau2 = m$tau2, beta = as.numeric(coef(m)), se = as.numeric(m$se),
                                ci_lb = as.numeric(m$ci.lb), ci_ub = as.numeric(m$ci.ub),
                                loglik = as.numeric(logLik(m)))
warned <- function(expr) {
  w <- character(0)
  val <- withCallingHandlers(expr, warning = function(x) { w <<- c(w, conditionMessage(x)); invokeRestart("muffleWarning") })
  list(value = val, warnings = w)
}

# 1. local maxima
p <- escalc("PLO", xi = xi, ni = ni, data = dat.pritz1997)[c(3, 6, 7, 8, 9), ]
local <- list(pritz1997 = list(input = list(yi = as.numeric(p$yi), vi = as.numeric(p$vi))))
for (m in c("REML", "ML")) {
  f <- warned(rma(yi, vi, data = p, method = m))
  g <- rma(yi, vi, data = p, method = m, control = list(ll0check = FALSE))
  local$pritz1997[[m]] <- list(fit = fit_summary(f$value), warned = any(grepl("local maximum", f$warnings)),
                               root = fit_summary(g))
}
b <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)[c(2, 5, 7, 9, 11, 12), ]
local$bcg_ablat <- list(input = list(yi = as.numeric(b$yi), vi = as.numeric(b$vi), x = b$ablat))
f <- warned(rma(yi, vi, mods = ~ ablat, data = b, method = "REML"))
g <- rma(yi, vi, mods = ~ ablat, data = b, method = "REML", control = list(ll0check = FALSE))
local$bcg_ablat$REML <- list(fit = fit_summary(f$value), warned = any(grepl("local maximum", f$warnings)),
                             root = fit_summary(g))

two <- fromJSON(file.path(dirname(out), "two_peaks_input.json"), simplifyVector = FALSE)$cases
local$two_peaks <- lapply(two, function(c) {
  y <- unlist(c$y); v <- unlist(c$v)
  ctl <- list(tol = 1e-12, threshold = 1e-12, maxiter = 10000)
  m <- if (is.null(c$x)) rma(y, v, method = c$method, control = ctl) else
    rma(y, v, mods = ~ unlist(c$x), method = c$method, control = ctl)
  list(tau2 = m$tau2, beta = as.numeric(coef(m)), loglik = as.numeric(logLik(m)))
})

# 2. one study, Knapp-Hartung requested
one <- warned(rma(yi = 0.5, vi = 0.1, method = "REML", test = "knha"))
m1 <- one$value
pr1 <- predict(m1)
k1 <- list(input = list(yi = 0.5, vi = 0.1), warning = one$warnings, test = m1$test, estimate = as.numeric(coef(m1)),
           se = m1$se, zval = m1$zval, pval = m1$pval, ci_lb = m1$ci.lb, ci_ub = m1$ci.ub,
           pi_lb = pr1$pi.lb, pi_ub = pr1$pi.ub, tau2 = m1$tau2, I2 = m1$I2, H2 = m1$H2, QE = m1$QE, QEp = m1$QEp)

# 3. multi-arm SMD, one standardiser per trial
bsort <- function(x) sort(unique(x), method = "radix")  # byte order, as Python's sorted()
senn <- dat.senn2013
rows <- list(); blocks <- list(); two_arm_check <- c()
for (s in unique(senn$study)) {
  d <- senn[senn$study == s, ]
  d <- d[order(match(d$treatment, bsort(d$treatment))), ]
  a <- nrow(d); N <- sum(d$ni)
  sp <- sqrt(sum((d$ni - 1) * d$sdi^2) / (N - a))
  J <- metafor:::.cmicalc(N - a)
  g <- J * (d$mi[1] - d$mi[-1]) / sp
  V <- 1 / d$ni[1] + outer(g, g) / (2 * N)
  diag(V) <- 1 / d$ni[1] + 1 / d$ni[-1] + g^2 / (2 * N)
  if (a == 2) {
    e <- escalc("SMD", m1i = d$mi[1], sd1i = d$sdi[1], n1i = d$ni[1], m2i = d$mi[2], sd2i = d$sdi[2], n2i = d$ni[2])
    two_arm_check <- c(two_arm_check, max(abs(e$yi - g), abs(e$vi - V[1, 1])))
  }
  rows[[s]] <- data.frame(study = s, t1 = d$treatment[1], t2 = d$treatment[-1], yi = g, vi = diag(V),
                          comp = paste(d$treatment[1], d$treatment[-1], sep = " vs "))
  blocks[[s]] <- V
}
stopifnot(max(two_arm_check) < 1e-12)
dat <- do.call(rbind, rows); V <- bldiag(blocks)
trts <- bsort(c(dat$t1, dat$t2)); reference <- "placebo"
X <- sapply(trts, function(t) (dat$t1 == t) - (dat$t2 == t))[, trts != reference, drop = FALSE]
mv <- function(...) rma.mv(dat$yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1/2,
                            struct = "CS", data = dat, method = "REML", ...)
re0 <- mv(control = list(optimizer = "BFGS", reltol = 1e-14))
opt <- optimize(function(t) as.numeric(logLik(mv(tau2 = t))), c(0, 2 * re0$tau2 + 1e-4), maximum = TRUE, tol = 1e-14)
re <- mv(tau2 = opt$maximum)
smd <- list(input = list(study = senn$study, treatment = senn$treatment, n = senn$ni, mean = senn$mi, sd = senn$sdi),
            contrasts = list(study = dat$study, t1 = dat$t1, t2 = dat$t2, yi = dat$yi),
            V = lapply(blocks, function(B) unname(B)),
            fit = list(treatments = trts, reference = reference, tau2 = re$tau2,
                       coef = setNames(as.list(as.numeric(coef(re))), trts[trts != reference]),
                       se = as.numeric(re$se)))

writeLines(toJSON(list(metafor_version = as.character(packageVersion("metafor")), local_maximum = local,
                       k1_knha = k1, multiarm_smd = smd),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"), out)
