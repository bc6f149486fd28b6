# metafor reference for the outside review of Linde 2016 (tests/reviews/linde2016.py): its response
# network of log odds ratios entered as contrasts (every pair of a multi-arm trial's arms), nodes as the
# protocol's `network.nodes: drug_class` makes them, fitted by rma.mv as the engine fits a network.
#
# Data: netmeta's Linde2016 (../shared/datasets/netmeta/Linde2016.csv; Linde K et al., J Clin Epidemiol
# 2016, doi:10.1016/j.jclinepi.2015.10.010; GPL-2): lnOR and selnOR of response per pair of arms.
# Nodes: each of the 22 treatments mapped as the review maps them (medication arms split by drug class,
# combined arms by drug class, every psychotherapy one node, placebo and usual care the node control).
# Rows as the review uses them: a two-arm trial whose arms are one node is left out; a multi-arm trial
# with two arms in one node is left out whole (contrasts cannot be merged as arms can).
# Multi-arm trials: contrasts against the study's baseline arm (first node in byte order) with covariance
# (v_AB + v_AC - v_BC) / 2, i.e. the baseline arm's back-calculated variance (network_contrasts.R).
# Usage (from the project root):
#   Rscript tests/reference/generate_linde2016_review.R ../shared/datasets/netmeta/Linde2016.csv \
#     tests/reference/linde2016_review.json
suppressMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
source(file.path(here, "network_contrasts.R"))  # bsort, contrast_data
tight <- list(optimizer = "BFGS", reltol = 1e-14)

node <- c("TCA" = "medication:TCA", "SSRI" = "medication:SSRI", "SNRI" = "medication:SNRI",
          "NRI" = "medication:NRI", "rMAO-A" = "medication:MAOI", "NaSSa" = "medication:NaSSA",
          "Low-dose SARI" = "medication:SARI", "Hypericum" = "medication:hypericum",
          "Ind drug" = "medication:individualized",
          "Face-to-face CBT" = "psychotherapy", "Face-to-face PST" = "psychotherapy",
          "Face-to-face interpsy" = "psychotherapy", "Face-to-face psychodyn" = "psychotherapy",
          "Other face-to-face" = "psychotherapy", "Remote CBT" = "psychotherapy",
          "Self-help CBT" = "psychotherapy", "No contact CBT" = "psychotherapy",
          "Face-to-face CBT + SSRI" = "combined:SSRI", "Face-to-face PST + SSRI" = "combined:SSRI",
          "Face-to-face interpsy + SSRI" = "combined:SSRI", "Placebo" = "control", "UC" = "control")
d <- read.csv(args[1], stringsAsFactors = FALSE)
stopifnot(all(c(d$treat1, d$treat2) %in% names(node)))
p <- data.frame(study = as.character(d$id), t1 = node[d$treat1], t2 = node[d$treat2], y = d$lnOR,
                v = d$selnOR^2, stringsAsFactors = FALSE)
keep <- unlist(lapply(split(seq_len(nrow(p)), p$study), function(i) {
  arms <- unique(c(paste(d$treat1[i]), paste(d$treat2[i])))
  if (length(unique(node[arms])) == length(arms)) i else integer(0)
}))
left_out <- sort(unique(p$study[-keep]), method = "radix")
p <- p[sort(keep), ]
cd <- contrast_data(p)
dat <- cd$dat; V <- cd$V
trts <- bsort(c(dat$t1, dat$t2))
reference <- "control"
X <- sapply(trts, function(t) (dat$t1 == t) - (dat$t2 == t))
X <- X[, trts != reference, drop = FALSE]
mv <- function(...) rma.mv(dat$yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1/2,
                            struct = "CS", data = dat, method = "REML", ...)
re0 <- mv(control = tight)
opt <- optimize(function(t) as.numeric(logLik(mv(tau2 = t))), c(0, 2 * re0$tau2 + 1e-4), maximum = TRUE,
                tol = 1e-14)
re <- mv(tau2 = opt$maximum)
pr <- t(combn(trts, 2))
L <- t(apply(pr, 1, function(x) (trts == x[1]) - (trts == x[2])))[, trts != reference, drop = FALSE]
pre <- predict(re, newmods = L)
# the same fit with t-based intervals (test = "t", df = contrasts minus treatment effects), the
# network's default (network.test)
pre_t <- predict(mv(tau2 = opt$maximum, test = "t"), newmods = L)
writeLines(toJSON(list(
  metafor_version = as.character(packageVersion("metafor")),
  model = "rma.mv(yi, V, mods = X - 1, random = ~ comp | study, rho = 1/2, method = 'REML')",
  source = "netmeta Linde2016 (doi:10.1016/j.jclinepi.2015.10.010), lnOR and selnOR of response",
  nodes = trts, n_studies = length(unique(dat$study)), studies_left_out = left_out, tau2 = re$tau2,
  pairs = list(treatment1 = pr[, 1], treatment2 = pr[, 2], estimate = as.numeric(pre$pred),
               se = as.numeric(pre$se), ci_lb = as.numeric(pre$ci.lb), ci_ub = as.numeric(pre$ci.ub),
               or = exp(as.numeric(pre$pred)), or_ci_lb = exp(as.numeric(pre$ci.lb)),
               or_ci_ub = exp(as.numeric(pre$ci.ub)), ci_lb_t = as.numeric(pre_t$ci.lb),
               ci_ub_t = as.numeric(pre_t$ci.ub))),
  auto_unbox = TRUE, digits = NA, pretty = TRUE), args[2])
