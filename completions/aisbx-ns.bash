# bash completion for aisbx-ns and ai-sandbox-landlock.
# Installed to share/bash-completion/completions/aisbx-ns (and loaded for
# ai-sandbox-landlock through the `complete` line at the end).

_aisbx_ns() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -s || return
    else
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    # After `--` everything is the sandboxed command: complete commands,
    # then their files.
    local i
    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} == -- ]]; then
            if ((i + 1 == cword)); then
                COMPREPLY=($(compgen -c -- "$cur"))
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return 0
        fi
    done

    # Host commands about --overlay runs: run names, then diff's --stat or
    # commit's project paths.
    case ${words[1]} in
        runs)
            return 0
            ;;
        diff | commit | discard)
            if ((cword == 2)); then
                local runs=${HOME:-~}/.ai-sandbox/runs
                [[ -d $runs ]] && COMPREPLY=($(compgen -W "$(ls -- "$runs" 2>/dev/null)" -- "$cur"))
            elif [[ ${words[1]} == diff ]]; then
                COMPREPLY=($(compgen -W "--stat --help" -- "$cur"))
            elif [[ ${words[1]} == commit ]]; then
                compopt -o filenames 2>/dev/null
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return 0
            ;;
    esac

    case $prev in
        --config | --trace-output | -o | --output)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
            ;;
        -p | --profile)
            # Profile names from --list-profiles, of the --config given so far.
            local config=() j
            for ((j = 1; j < cword; j++)); do
                if [[ ${words[j]} == --config && $((j + 1)) -lt $cword ]]; then
                    config=(--config "${words[j + 1]}")
                elif [[ ${words[j]} == --config=* ]]; then
                    config=("${words[j]}")
                fi
            done
            local names
            names=$("${words[0]}" "${config[@]}" --list-profiles 2>/dev/null | awk '{print $1}')
            COMPREPLY=($(compgen -W "$names" -- "$cur"))
            return 0
            ;;
        --mode)
            COMPREPLY=($(compgen -W "landlock ns layered strict" -- "$cur"))
            return 0
            ;;
        --format)
            COMPREPLY=($(compgen -W "text json" -- "$cur"))
            return 0
            ;;
        --net)
            COMPREPLY=($(compgen -W "host none loopback" -- "$cur"))
            return 0
            ;;
        --log-level)
            COMPREPLY=($(compgen -W "error warn info debug" -- "$cur"))
            return 0
            ;;
        --seccomp)
            COMPREPLY=($(compgen -W "off default" -- "$cur"))
            return 0
            ;;
        --project | --chdir | --home | --ro | --rw)
            compopt -o filenames 2>/dev/null
            COMPREPLY=($(compgen -d -- "$cur"))
            [[ $prev == --ro || $prev == --rw ]] && COMPREPLY+=($(compgen -f -- "$cur"))
            return 0
            ;;
        --env | --keep-fd | --run)
            return 0
            ;;
    esac

    if ((cword == 1)) && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "learn runs diff commit discard" -- "$cur"))
        return 0
    fi
    if [[ $cur == -* ]]; then
        local opts="--config --profile --mode --require-landlock --dry-run --print-ruleset
            --check --strict --format --features --list-profiles --project --allow-wide-project --chdir
            --ro --rw --net --home
            --env --log-level --seccomp --keep-fd --trace --trace-output --overlay --run
            --version --help --"
        [[ ${words[1]} == learn ]] && opts+=" --output"
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
}
complete -F _aisbx_ns aisbx-ns ai-sandbox-landlock
