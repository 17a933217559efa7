_kedactl() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="kedactl"
                ;;
            kedactl,completions)
                cmd="kedactl__subcmd__completions"
                ;;
            kedactl,doctor)
                cmd="kedactl__subcmd__doctor"
                ;;
            kedactl,down)
                cmd="kedactl__subcmd__down"
                ;;
            kedactl,help)
                cmd="kedactl__subcmd__help"
                ;;
            kedactl,init)
                cmd="kedactl__subcmd__init"
                ;;
            kedactl,load)
                cmd="kedactl__subcmd__load"
                ;;
            kedactl,plan)
                cmd="kedactl__subcmd__plan"
                ;;
            kedactl,render)
                cmd="kedactl__subcmd__render"
                ;;
            kedactl,scale)
                cmd="kedactl__subcmd__scale"
                ;;
            kedactl,schema)
                cmd="kedactl__subcmd__schema"
                ;;
            kedactl,simulate)
                cmd="kedactl__subcmd__simulate"
                ;;
            kedactl,up)
                cmd="kedactl__subcmd__up"
                ;;
            kedactl,validate)
                cmd="kedactl__subcmd__validate"
                ;;
            kedactl,watch)
                cmd="kedactl__subcmd__watch"
                ;;
            kedactl__subcmd__help,completions)
                cmd="kedactl__subcmd__help__subcmd__completions"
                ;;
            kedactl__subcmd__help,doctor)
                cmd="kedactl__subcmd__help__subcmd__doctor"
                ;;
            kedactl__subcmd__help,down)
                cmd="kedactl__subcmd__help__subcmd__down"
                ;;
            kedactl__subcmd__help,help)
                cmd="kedactl__subcmd__help__subcmd__help"
                ;;
            kedactl__subcmd__help,init)
                cmd="kedactl__subcmd__help__subcmd__init"
                ;;
            kedactl__subcmd__help,load)
                cmd="kedactl__subcmd__help__subcmd__load"
                ;;
            kedactl__subcmd__help,plan)
                cmd="kedactl__subcmd__help__subcmd__plan"
                ;;
            kedactl__subcmd__help,render)
                cmd="kedactl__subcmd__help__subcmd__render"
                ;;
            kedactl__subcmd__help,scale)
                cmd="kedactl__subcmd__help__subcmd__scale"
                ;;
            kedactl__subcmd__help,schema)
                cmd="kedactl__subcmd__help__subcmd__schema"
                ;;
            kedactl__subcmd__help,simulate)
                cmd="kedactl__subcmd__help__subcmd__simulate"
                ;;
            kedactl__subcmd__help,up)
                cmd="kedactl__subcmd__help__subcmd__up"
                ;;
            kedactl__subcmd__help,validate)
                cmd="kedactl__subcmd__help__subcmd__validate"
                ;;
            kedactl__subcmd__help,watch)
                cmd="kedactl__subcmd__help__subcmd__watch"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        kedactl)
            opts="-f -o -y -v -q -h -V --config --output --color --only --yes --profile --endpoint-url --kubeconfig --context --connect-timeout --call-timeout --trust-watch --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help --version up plan down doctor render simulate load scale watch validate init schema completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --only)
                    COMPREPLY=($(compgen -W "iam queue registry source eks keda app" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kubeconfig)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trust-watch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__completions)
            opts="-h --help bash elvish fish powershell zsh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__doctor)
            opts="-f -o -y -v -q -h --list --explain --fix --adopt --strict --scaled-object --keda-log --config --output --color --only --yes --profile --endpoint-url --kubeconfig --context --connect-timeout --call-timeout --trust-watch --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --explain)
                    COMPREPLY=($(compgen -W "KD001 KD002 KD003 KD004 KD005 KD006 KD007 KD008 KD009 KD010 KD011 KD012 KD013 KD014 KD015 KD016 KD017 KD018 KD019 KD020 KD021 KD022 KD023 KD024 KD025 KD026 KD027 KD028 KD029 KD030 KD031 KD032 KD033 KD034 KD035 KD036 KD037 KD038 KD039 KD040 KD041 KD042 KD043 KD044 KD045 KD046 KD047 KD048 KD049 KD050 KD051 KD052 KD053 KD054 KD055 KD056" -- "${cur}"))
                    return 0
                    ;;
                --scaled-object)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-log)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --only)
                    COMPREPLY=($(compgen -W "iam queue registry source eks keda app" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kubeconfig)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trust-watch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__down)
            opts="-f -o -y -v -q -h --force --config --output --color --only --yes --profile --endpoint-url --kubeconfig --context --connect-timeout --call-timeout --trust-watch --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --only)
                    COMPREPLY=($(compgen -W "iam queue registry source eks keda app" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kubeconfig)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trust-watch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help)
            opts="up plan down doctor render simulate load scale watch validate init schema completions help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__completions)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__doctor)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__down)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__init)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__load)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__plan)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__render)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__scale)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__schema)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__simulate)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__up)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__validate)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__help__subcmd__watch)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__init)
            opts="-o -v -q -h --stdout --force --output --color --verbose --quiet --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__load)
            opts="-f -o -v -q -h --count --rate --duration --body --seed --concurrency --group-id --config --output --color --profile --endpoint-url --connect-timeout --call-timeout --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --body)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --seed)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --concurrency)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --group-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__plan)
            opts="-f -o -v -q -h --offline --detailed-exitcode --adopt --out --force --no-prune --config --output --color --only --profile --endpoint-url --kubeconfig --context --connect-timeout --call-timeout --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --out)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --only)
                    COMPREPLY=($(compgen -W "iam queue registry source eks keda app" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kubeconfig)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__render)
            opts="-f -o -v -q -h --out-dir --force --strict --caller-policy --commands --caller-arn --format --config --output --color --only --profile --verbose --quiet --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --out-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --commands)
                    COMPREPLY=($(compgen -W "plan doctor up down watch load" -- "${cur}"))
                    return 0
                    ;;
                --caller-arn)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "documents cloudformation kustomize" -- "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --only)
                    COMPREPLY=($(compgen -W "iam queue registry source eks keda app" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__scale)
            opts="-f -o -v -q -h --dry-run --once --current --force --k8s-version --config --output --color --profile --endpoint-url --kubeconfig --context --connect-timeout --call-timeout --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --current)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --k8s-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kubeconfig)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__schema)
            opts="-v -q -h --kind --verbose --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --kind)
                    COMPREPLY=($(compgen -W "Plan SavedPlan Up Down Doctor DoctorChecks DoctorCheck Validation Rendered RenderedFiles ScaleDecision WatchSnapshot Load Simulation SimulationStart SimulationTick SimulationSummary Error" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__simulate)
            opts="-f -o -v -q -h --shape --rate --duration --seed --trace --pod-rate --startup --price --chart --compare --phase --k8s-version --job-duration --config --output --color --profile --verbose --quiet --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --shape)
                    COMPREPLY=($(compgen -W "steady burst ramp sine spikes" -- "${cur}"))
                    return 0
                    ;;
                --rate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --seed)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pod-rate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --startup)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --price)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --chart)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --compare)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --phase)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --k8s-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --job-duration)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__up)
            opts="-f -o -y -v -q -h --adopt --force-conflicts --force --no-prune --dry-run --plan --config --output --color --only --yes --profile --endpoint-url --kubeconfig --context --connect-timeout --call-timeout --trust-watch --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --plan)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --only)
                    COMPREPLY=($(compgen -W "iam queue registry source eks keda app" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kubeconfig)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --trust-watch)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__validate)
            opts="-f -o -v -q -h --config --output --color --profile --verbose --quiet --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        kedactl__subcmd__watch)
            opts="-f -o -v -q -h --interval --count --no-cluster --config --output --color --profile --endpoint-url --kubeconfig --context --connect-timeout --call-timeout --verbose --quiet --max-attempts --max-in-flight --retry-mode --cluster --region --account --stack --auth-mode --oidc-issuer --scoped-trust --keda-namespace --keda-service-account --keda-version --operator-role --identity-role --permissions-boundary --app --deployment --namespace --service-account --image --app-identity-role --repository --queue --visibility-timeout --dlq --max-receive-count --kms-key --scaling-kind --scaler-name --queue-length --activation-queue-length --min-replicas --max-replicas --polling-interval --cooldown-period --scale-on-in-flight --scale-on-delayed --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                -o)
                    COMPREPLY=($(compgen -W "human json junit markdown jsonl" -- "${cur}"))
                    return 0
                    ;;
                --color)
                    COMPREPLY=($(compgen -W "auto always never" -- "${cur}"))
                    return 0
                    ;;
                --profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --endpoint-url)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kubeconfig)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --connect-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --call-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-attempts)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-in-flight)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --retry-mode)
                    COMPREPLY=($(compgen -W "adaptive standard" -- "${cur}"))
                    return 0
                    ;;
                --cluster)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --region)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stack)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-mode)
                    COMPREPLY=($(compgen -W "pod-identity irsa" -- "${cur}"))
                    return 0
                    ;;
                --oidc-issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scoped-trust)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --keda-namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keda-version)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --operator-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --permissions-boundary)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --deployment)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --namespace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --image)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --app-identity-role)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --repository)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --visibility-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --dlq)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-receive-count)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms-key)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scaling-kind)
                    COMPREPLY=($(compgen -W "ScaledObject ScaledJob" -- "${cur}"))
                    return 0
                    ;;
                --scaler-name)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --activation-queue-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-replicas)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --polling-interval)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cooldown-period)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scale-on-in-flight)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                --scale-on-delayed)
                    COMPREPLY=($(compgen -W "true false" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _kedactl -o nosort -o bashdefault -o default kedactl
else
    complete -F _kedactl -o bashdefault -o default kedactl
fi
