//! How many Jobs a ScaledJob starts per poll (KEDA `scale_jobs.go`, `scaledjob/metrics.go`).

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    Default,
    /// `customScalingQueueLengthDeduction`, `customScalingRunningJobPercentage`.
    Custom {
        deduction: u64,
        running_percentage: f64,
    },
    Accurate,
    Eager,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jobs {
    /// Unfinished jobs.
    pub running: u64,
    /// Unfinished jobs whose pod is not running yet.
    pub pending: u64,
}

/// New jobs to create this poll, given the queue metric.
pub fn to_create(
    strategy: Strategy,
    metric: u64,
    target: u64,
    min: u64,
    max: u64,
    jobs: Jobs,
) -> u64 {
    if jobs.running < min {
        return min - jobs.running;
    }
    let max_scale = metric.div_ceil(target.max(1)).min(max) as i64;
    let running = jobs.running.saturating_sub(min) as i64;
    let pending = jobs.pending as i64;
    let max = max as i64;
    let n = match strategy {
        Strategy::Default => max_scale - running,
        Strategy::Custom {
            deduction,
            running_percentage,
        } => (max_scale - deduction as i64 - (running as f64 * running_percentage).floor() as i64)
            .min(max),
        Strategy::Accurate => {
            if max_scale + running - pending > max {
                max - running
            } else {
                max_scale - pending
            }
        }
        Strategy::Eager => (max - running - pending).min(max_scale),
    };
    n.max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Jobs = Jobs {
        running: 0,
        pending: 0,
    };

    #[test]
    fn strategies_follow_keda() {
        // 23 messages, 5 per job, max 10.
        assert_eq!(to_create(Strategy::Default, 23, 5, 0, 10, IDLE), 5);
        assert_eq!(
            to_create(
                Strategy::Default,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 0
                }
            ),
            2
        );
        assert_eq!(
            to_create(
                Strategy::Default,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 7,
                    pending: 0
                }
            ),
            0
        );
        // Accurate subtracts pending jobs (the docs omit this; the code has it).
        assert_eq!(
            to_create(
                Strategy::Accurate,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 2
                }
            ),
            3
        );
        assert_eq!(
            to_create(
                Strategy::Accurate,
                40,
                5,
                0,
                10,
                Jobs {
                    running: 4,
                    pending: 0
                }
            ),
            6
        );
        // Eager fills up to max.
        assert_eq!(
            to_create(
                Strategy::Eager,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 1
                }
            ),
            5
        );
        assert_eq!(
            to_create(
                Strategy::Eager,
                100,
                5,
                0,
                10,
                Jobs {
                    running: 3,
                    pending: 1
                }
            ),
            6
        );
        let custom = Strategy::Custom {
            deduction: 1,
            running_percentage: 0.5,
        };
        assert_eq!(
            to_create(
                custom,
                23,
                5,
                0,
                10,
                Jobs {
                    running: 4,
                    pending: 0
                }
            ),
            2
        );
        // Below min: top up to min first.
        assert_eq!(
            to_create(
                Strategy::Default,
                0,
                5,
                2,
                10,
                Jobs {
                    running: 1,
                    pending: 0
                }
            ),
            1
        );
    }
}
