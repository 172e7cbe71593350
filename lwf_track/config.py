"""Config keys added by lwf_track, in the notation of the paper (Vo et al., "Balancing Multiple
Object Tracking Objectives based on Learned Weighting Factors").

Every key has one comment. Paper notation: L_cls, L_reg, L_reid are the three task losses;
alpha, beta, gamma their weights; C the hidden width and N the number of hidden layers of LWF.
"""

from detectron2.config import CfgNode as CN


def add_lwf_config(cfg: CN) -> None:
    """Add all lwf_track keys to a detectron2 config (call before merging a yaml)."""
    _add_data_config(cfg)
    _add_model_config(cfg)
    _add_weighting_config(cfg)
    _add_solver_config(cfg)
    _add_tracker_config(cfg)
    _add_pretrain_config(cfg)


def _add_data_config(cfg: CN) -> None:
    cfg.DATASETS.MOT = CN()
    # Training boxes (class 1, flag 1) need visibility >= this (gt.txt column 9); 0.0 keeps all.
    cfg.DATASETS.MOT.VISIBILITY_THRESH = 0.0
    # Training sets that teach detection only (L_cls, L_reg): their boxes get no identity, so
    # L_reid and nID leave their people out. Each must also be in DATASETS.TRAIN.
    cfg.DATASETS.MOT.DETECTION_ONLY = ()
    # Training jitter of the MOT mapper: brightness factor drawn from [1-x, 1+x]; 0 disables it.
    cfg.INPUT.BRIGHTNESS = 0.2
    # Training jitter of the MOT mapper: contrast factor drawn from [1-x, 1+x]; 0 disables it.
    cfg.INPUT.CONTRAST = 0.2
    # Batch training images of equal size together (each keeps its random scale), so a batch is
    # not padded to its largest image: with several MIN_SIZE_TRAIN values, less compute per step.
    cfg.DATALOADER.GROUP_BY_IMAGE_SIZE = False


def _add_model_config(cfg: CN) -> None:
    # Keep conv weights, and so the feature maps, channels-last (NHWC): the same arithmetic in
    # another memory order; on CPUs, oneDNN's faster layout (bench/train_speed.py).
    cfg.MODEL.CHANNELS_LAST = False
    cfg.MODEL.REID = CN()
    # D: dimension of the L2-normalised Re-ID embedding of every anchor.
    cfg.MODEL.REID.EMBED_DIM = 128
    # Number of 3x3 conv layers in the Re-ID tower (like RETINANET.NUM_CONVS for cls/box).
    cfg.MODEL.REID.NUM_CONVS = 4
    # At inference, run the Re-ID tower only around the kept detections (exact; the dense tower
    # over every FPN position costs as much as the cls tower). Needs a per-position head norm.
    cfg.MODEL.REID.SPARSE_INFERENCE = True
    # At inference, only detections scoring >= this get an embedding (the others a NaN row). The
    # tracker compares appearance only at >= TRACKER.HIGH_SCORE_THRESH, so a value up to that
    # (and up to the calibration candidates) changes no track and skips their Re-ID work; Re-ID
    # TPR@FAR is then over the matched detections above it. 0 = every detection; above 1 = none
    # (no Re-ID work: with TRACKER.COLOR_WEIGHT 1 the tracker does not read embeddings).
    cfg.MODEL.REID.MIN_SCORE_TEST = 0.0
    # Train only the Re-ID tower and the identity classifier; every other parameter and BN
    # statistic stays as loaded: a Re-ID stage after detection training, same detections.
    cfg.MODEL.REID.TRAIN_ONLY = False
    # nID: number of training identities; 0 = read from the training sets' metadata.
    cfg.MODEL.REID.NUM_IDENTITIES = 0
    # s: scale of the ID classifier logits on normalised embeddings; 0 = sqrt(2) * ln(nID - 1).
    cfg.MODEL.REID.SCALE = 0.0
    # Focal Re-ID loss (paper eq. 6): alpha_t (<0 disables) and focusing parameter gamma_f.
    cfg.MODEL.REID.FOCAL_LOSS_ALPHA = -1.0
    cfg.MODEL.REID.FOCAL_LOSS_GAMMA = 2.0
    # Normaliser of L_cls: "num_pos" (Detectron2: EMA of the positive-anchor count) or
    # "num_anchors" (the paper's eq. 2: 1 / (N_pos + N_neg) over all non-ignored anchors).
    cfg.MODEL.RETINANET.CLS_LOSS_NORM = "num_pos"


def _add_weighting_config(cfg: CN) -> None:
    cfg.MODEL.LOSS_WEIGHTING = CN()
    # How L = alpha*L_cls + beta*L_reg + gamma*L_reid is weighted: Fixed (HWF), LWF,
    # Uncertainty, DWA or GradNorm (see lwf_track/weighting).
    cfg.MODEL.LOSS_WEIGHTING.NAME = "LWF"
    # Learning rate of the learnable weighting parameters; 0 = SOLVER.BASE_LR.
    cfg.MODEL.LOSS_WEIGHTING.BASE_LR = 0.0

    cfg.MODEL.LOSS_WEIGHTING.FIXED = CN()
    # HWF: hand-tuned [alpha, beta, gamma] (paper Table I).
    cfg.MODEL.LOSS_WEIGHTING.FIXED.WEIGHTS = [1.0, 1.0, 1.0]

    cfg.MODEL.LOSS_WEIGHTING.LWF = CN()
    # C: width of every hidden layer of the LWF MLP (paper Table IV; parameters = 6C + N*C^2).
    cfg.MODEL.LOSS_WEIGHTING.LWF.HIDDEN_DIM = 32
    # N: number of FC(C,C)+sigmoid hidden layers (paper Table V).
    cfg.MODEL.LOSS_WEIGHTING.LWF.NUM_HIDDEN_LAYERS = 1
    # What keeps the weights from collapsing to 0: "log_barrier" (adds -sum log w_i, optimum
    # w_i = 1/L_i, so every w_i*L_i -> 1), "sum" (weights rescaled to sum to 3; favours the
    # smallest loss) or "none" (the literal paper, collapses to EPS).
    cfg.MODEL.LOSS_WEIGHTING.LWF.CONSTRAINT = "log_barrier"
    # epsilon added after the output ReLU so alpha, beta, gamma stay strictly positive.
    cfg.MODEL.LOSS_WEIGHTING.LWF.EPS = 1e-3

    cfg.MODEL.LOSS_WEIGHTING.UNCERTAINTY = CN()
    # Initial log-variances s_i of Kendall et al.'s weighting, one per task (cls, reg, reid).
    cfg.MODEL.LOSS_WEIGHTING.UNCERTAINTY.INIT_LOG_VARS = [0.0, 0.0, 0.0]

    cfg.MODEL.LOSS_WEIGHTING.DWA = CN()
    # Iterations per window whose mean task losses DWA compares (the paper's epochs).
    cfg.MODEL.LOSS_WEIGHTING.DWA.WINDOW = 20
    # Softmax temperature T of Dynamic Weight Average.
    cfg.MODEL.LOSS_WEIGHTING.DWA.TEMPERATURE = 2.0

    cfg.MODEL.LOSS_WEIGHTING.GRADNORM = CN()
    # Restoring-force exponent alpha_g of GradNorm.
    cfg.MODEL.LOSS_WEIGHTING.GRADNORM.ALPHA = 1.5


def _add_solver_config(cfg: CN) -> None:
    # "ADAM" (the paper), "ADAMW" or "SGD" (Detectron2's default).
    cfg.SOLVER.OPTIMIZER = "ADAM"


def _add_tracker_config(cfg: CN) -> None:
    cfg.TRACKER = CN()
    # Detections with score >= this are "high" and take part in every association stage.
    cfg.TRACKER.HIGH_SCORE_THRESH = 0.5
    # Detections with LOW_SCORE_THRESH <= score < HIGH_SCORE_THRESH are used by BYTE only.
    cfg.TRACKER.LOW_SCORE_THRESH = 0.1
    # An unmatched high detection starts a new track only if its score >= this.
    cfg.TRACKER.BIRTH_THRESH = 0.6
    # Stage 1: max fused (embedding + motion) distance accepted as a match.
    cfg.TRACKER.EMBED_MATCH_THRESH = 0.4
    # Stage 1: weight lambda of the embedding cosine distance vs the Mahalanobis motion cost.
    cfg.TRACKER.EMBED_WEIGHT = 0.98
    # Stage 1: chi-square probability p whose quantile (4 dof) gates by Mahalanobis distance.
    cfg.TRACKER.GATING_CONFIDENCE = 0.95
    # Factor on the Kalman filter's position and velocity noise (DeepSORT's per-frame values,
    # tuned at 30 fps): > 1 for sequences whose people move more between frames (low frame rate).
    cfg.TRACKER.MOTION_NOISE_SCALE = 1.0
    # Stage 2: max IoU distance (1 - IoU) for tracked tracks vs remaining high detections.
    cfg.TRACKER.IOU_MATCH_THRESH = 0.5
    # Stage 3 (BYTE): max IoU distance for tracked tracks vs low-score detections.
    cfg.TRACKER.LOW_IOU_MATCH_THRESH = 0.5
    # Stage 4: max IoU distance for unconfirmed (new) tracks vs remaining high detections.
    cfg.TRACKER.UNCONFIRMED_MATCH_THRESH = 0.7
    # Lost tracks are removed after TRACK_BUFFER * frame_rate / 30 frames without a match.
    cfg.TRACKER.TRACK_BUFFER = 30
    # A tracked track matched only by low-score detections (stage 3) for more than this many
    # frames (at 30 fps, scaled like TRACK_BUFFER) is marked lost; 0 = no limit (ByteTrack).
    cfg.TRACKER.MAX_LOW_SCORE_FRAMES = 0
    # Stage 2 also matches the lost tracks stage 1 left by IoU (ByteTrack): recovers people whose
    # embedding is too weak to recognise after an occlusion; False: by appearance only (FairMOT).
    cfg.TRACKER.LOST_BY_IOU = False
    # Stage 1 in two levels: tracked tracks first, lost tracks only on the detections left
    # (DeepSORT's cascade by time since update, in two levels): a lost track whose embedding
    # resembles a followed person's cannot take that person's detection. False: one assignment.
    cfg.TRACKER.APPEARANCE_CASCADE = False
    # Momentum of the track embedding EMA: e <- m * e + (1 - m) * e_new.
    cfg.TRACKER.EMBED_MOMENTUM = 0.9
    # Weight w of the colour cue in stage 1's appearance distance (1 - w) d_reid + w d_colour
    # (HSV histograms of each box's upper and lower half, lwf_track/tracking/color.py): a cue that
    # needs no training, for Re-ID branches trained on few identities; 0 = off (the paper's
    # Re-ID embeddings alone), 1 = colours alone (also for public detections, which have none).
    cfg.TRACKER.COLOR_WEIGHT = 0.0
    # Hue, saturation and value bins of each half box's colour histogram.
    cfg.TRACKER.COLOR_BINS = [8, 4, 4]
    # Box reported for a matched track: "detection" (the matched detection's box) or "kalman"
    # (the Kalman state after the update: smoother, better when detections are loose).
    cfg.TRACKER.OUTPUT_BOX = "detection"
    # Boxes smaller than this area (pixels^2) are not written to the results.
    cfg.TRACKER.MIN_BOX_AREA = 100.0

    cfg.TRACKER.CALIBRATION = CN()
    # A registered set with gt (e.g. a training slice, never the evaluated set) on which
    # HIGH_SCORE_THRESH is chosen before the test sets are tracked; "" = off (use it as given).
    cfg.TRACKER.CALIBRATION.DATASET = ""
    # Calibrate on the first MAX_FRAMES / (number of sequences) frames of each sequence; 0 = all.
    cfg.TRACKER.CALIBRATION.MAX_FRAMES = 300
    # Candidate HIGH_SCORE_THRESH values (BIRTH_THRESH keeps its offset); best MOTA, then IDF1.
    cfg.TRACKER.CALIBRATION.HIGH_SCORE_THRESHS = [0.3, 0.4, 0.5, 0.6, 0.7]


def _add_pretrain_config(cfg: CN) -> None:
    cfg.PRETRAIN = CN()
    # A config trained first, in the same command, into OUTPUT_DIR/pretrain with this run's SEED
    # and no evaluation; its final model then starts this training (used only while MODEL.WEIGHTS
    # is ""). "" = none. E.g. synthetic people before real (configs/lwf_pets09_cpu.yaml).
    cfg.PRETRAIN.CONFIG_FILE = ""
    # Overrides of that config, as on a command line: ["SOLVER.MAX_ITER", "100", ...].
    cfg.PRETRAIN.OPTS = []
