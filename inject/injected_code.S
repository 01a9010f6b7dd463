// The code dial9 attach copies into a running process (see attach.cpp for
// how it gets there and why it is shaped like this). It is data to dial9:
// assembled into a read-only section, never executed here.
//
// Two entry points, position-independent, reaching the data block that
// follows them relative to the instruction pointer:
//
//   hijack: run by the thread dial9 stopped, on a frame dial9 built below
//     that thread's stack pointer (xsave area, then r15..rax, rflags, the
//     original rsp; the address to resume at is stored at original rsp - 8).
//     It saves the extended FPU state, starts one thread with
//     pthread_create(worker, data), restores every register and resumes the
//     interrupted code. dial9 plays no part once the thread runs this, so
//     dial9 dying at any moment cannot leave the thread broken.
//   worker: the new thread. Connects to dial9's handshake socket, receives
//     the agent library as a file descriptor, dlopen()s
//     /proc/thread-self/fd/N (not /proc/self: once the main thread has
//     exited, /proc/self shows its empty descriptor table),
//     reports success (one zero byte) or dlerror()'s text, and calls
//     dial9_agent_connect(agent_socket, 1). Every failure just returns.
//
// The data block's layout is InjectedData in attach.cpp.
        .intel_syntax noprefix
        .section .rodata.dial9_injected,"a"
        .balign 64
        .globl dial9_injected_begin, dial9_injected_hijack, dial9_injected_worker, dial9_injected_data, dial9_injected_end

        .set DATA_PTHREAD_CREATE, 0
        .set DATA_DLOPEN, 8
        .set DATA_DLSYM, 16
        .set DATA_DLERROR, 24
        .set DATA_XSAVE_SIZE, 32
        .set DATA_ADDR_LEN, 40
        .set DATA_ADDR, 48
        .set DATA_SYMBOL, 160
        .set DATA_AGENT_SOCKET, 192

dial9_injected_begin:
dial9_injected_hijack:
        xor ecx, ecx
        xgetbv                              // edx:eax = XCR0, every state component in use
        xsave64 [rsp]
        sub rsp, 16                         // pthread_t; rsp stays 16-byte aligned
        mov rdi, rsp
        xor esi, esi
        lea rdx, [rip + .Lworker]
        lea rcx, [rip + .Ldata]
        call qword ptr [rip + .Ldata + DATA_PTHREAD_CREATE]
        add rsp, 16
        xor ecx, ecx
        xgetbv
        xrstor64 [rsp]
        add rsp, qword ptr [rip + .Ldata + DATA_XSAVE_SIZE]
        pop r15
        pop r14
        pop r13
        pop r12
        pop r11
        pop r10
        pop r9
        pop r8
        pop rdi
        pop rsi
        pop rbp
        pop rbx
        pop rdx
        pop rcx
        pop rax
        popfq
        pop rsp
        // A signal arriving now gets a frame below rsp - 128: the slot
        // below rsp is safe (the thread was in a system call, where no
        // function keeps data in its red zone).
        jmp qword ptr [rsp - 8]

        .balign 16
dial9_injected_worker:
.Lworker:                               // rdi = the data block; rsp = 8 mod 16
        push rbx
        push r12
        push r13
        push r14
        push r15
        sub rsp, 192                        // locals (offsets below); rsp = 0 mod 16
        mov rbx, rdi
        // s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)
        mov eax, 41
        mov edi, 1
        mov esi, 0x80005
        xor edx, edx
        syscall
        test rax, rax
        js .Lreturn
        mov r12, rax
        // connect(s, &data.addr, data.addr_len)
        mov eax, 42
        mov rdi, r12
        lea rsi, [rbx + DATA_ADDR]
        mov edx, dword ptr [rbx + DATA_ADDR_LEN]
        syscall
        test rax, rax
        jnz .Lclose_socket
        // recvmsg(s, &msg, MSG_CMSG_CLOEXEC): one byte and one descriptor.
        // [rsp+0] iovec, [rsp+16] msghdr, [rsp+72] control (24 bytes),
        // [rsp+96..136] path, [rsp+144..160] digits, [rsp+168] the byte.
        lea rax, [rsp + 168]
        mov [rsp], rax
        mov qword ptr [rsp + 8], 1
        mov qword ptr [rsp + 16], 0
        mov qword ptr [rsp + 24], 0
        mov [rsp + 32], rsp
        mov qword ptr [rsp + 40], 1
        lea rax, [rsp + 72]
        mov [rsp + 48], rax
        mov qword ptr [rsp + 56], 24
        mov qword ptr [rsp + 64], 0
        mov qword ptr [rsp + 72], 0
        mov qword ptr [rsp + 80], 0
        mov qword ptr [rsp + 88], 0
.Lrecv:
        mov eax, 47
        mov rdi, r12
        lea rsi, [rsp + 16]
        mov edx, 0x40000000
        syscall
        cmp rax, -4                         // EINTR
        je .Lrecv
        test rax, rax
        jle .Lclose_socket
        cmp qword ptr [rsp + 72], 20        // cmsg_len of one int
        jne .Lclose_socket
        cmp dword ptr [rsp + 80], 1         // SOL_SOCKET
        jne .Lclose_socket
        cmp dword ptr [rsp + 84], 1         // SCM_RIGHTS
        jne .Lclose_socket
        mov r15d, dword ptr [rsp + 88]
        // path = "/proc/thread-self/fd/" followed by the descriptor in decimal
        movabs rax, 0x68742f636f72702f      // "/proc/th"
        mov [rsp + 96], rax
        movabs rax, 0x6c65732d64616572      // "read-sel"
        mov [rsp + 104], rax
        movabs rax, 0x0000002f64662f66      // "f/fd/"
        mov [rsp + 112], rax
        mov eax, r15d
        lea rdi, [rsp + 160]
        mov byte ptr [rdi], 0
        mov ecx, 10
.Ldigit:
        xor edx, edx
        div ecx
        add dl, 48
        dec rdi
        mov [rdi], dl
        test eax, eax
        jnz .Ldigit
        lea rsi, [rsp + 117]
.Lcopy:
        mov al, [rdi]
        mov [rsi], al
        inc rdi
        inc rsi
        test al, al
        jnz .Lcopy
        lea rdi, [rsp + 96]
        mov esi, 2                          // RTLD_NOW
        call qword ptr [rbx + DATA_DLOPEN]
        mov r13, rax
        mov eax, 3                          // close(fd): the mapping stays
        mov edi, r15d
        syscall
        test r13, r13
        jz .Lfailed
        mov rdi, r13
        lea rsi, [rbx + DATA_SYMBOL]
        call qword ptr [rbx + DATA_DLSYM]
        mov r14, rax
        test r14, r14
        jz .Lfailed
        mov byte ptr [rsp + 168], 0         // loaded: sendto(s, "\0", 1, MSG_NOSIGNAL, 0, 0)
        mov eax, 44
        mov rdi, r12
        lea rsi, [rsp + 168]
        mov edx, 1
        mov r10d, 0x4000
        xor r8d, r8d
        xor r9d, r9d
        syscall
        lea rdi, [rbx + DATA_AGENT_SOCKET]  // dial9_agent_connect(agent_socket, 1)
        mov esi, 1
        call r14
        jmp .Lclose_socket
.Lfailed:
        call qword ptr [rbx + DATA_DLERROR]
        test rax, rax
        jz .Lclose_socket
        mov rsi, rax
        xor edx, edx
.Lstrlen:
        cmp byte ptr [rsi + rdx], 0
        je .Lsend_error
        inc rdx
        cmp rdx, 1000
        jb .Lstrlen
.Lsend_error:
        mov eax, 44
        mov rdi, r12
        mov r10d, 0x4000
        xor r8d, r8d
        xor r9d, r9d
        syscall
.Lclose_socket:
        mov eax, 3
        mov rdi, r12
        syscall
.Lreturn:
        add rsp, 192
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbx
        xor eax, eax
        ret

        .balign 8
dial9_injected_data:
.Ldata:
        .zero 304
dial9_injected_end:
        .section .note.GNU-stack,"",@progbits
