/* drive N DIR BINDIR SYSTEM...: starts and stops each system N times, interleaved, each a
   whole process (posix_spawn), and prints the median start and stop wall times. Systems
   named tick_macro* or tick_builder take --daemon/--stop; the others are stopped with
   BINDIR/stop_pidfd. SYSTEM:ARG passes one more argument to the start
   (tick_macro:--log-target=none). Standard output goes to /dev/null and standard error
   to DIR/stderr.log, as in the harness. gcc -O2 -o drive drive.c */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <sys/wait.h>
extern char **environ;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static char errlog[512];
static double run(char*const argv[]){ pid_t p; double t=now();
  posix_spawn_file_actions_t fa; posix_spawn_file_actions_init(&fa); posix_spawn_file_actions_addopen(&fa,1,"/dev/null",O_WRONLY,0);
  posix_spawn_file_actions_addopen(&fa,2,errlog,O_WRONLY|O_CREAT|O_APPEND,0644);
  if(posix_spawn(&p,argv[0],&fa,NULL,argv,environ)){perror("spawn");exit(1);} int st; waitpid(p,&st,0);
  if(!WIFEXITED(st)||WEXITSTATUS(st)){fprintf(stderr,"%s %s failed %d\n",argv[0],argv[1],st);exit(1);} return now()-t;}
#include <fcntl.h>
int main(int argc,char**argv){
  int n=atoi(argv[1]); const char*dir=argv[2]; const char*R=argv[3];
  int k=(argc-4); // systems: names
  double *st=calloc(n*k,sizeof(double)),*sp=calloc(n*k,sizeof(double));
  char pid[256]; snprintf(pid,sizeof pid,"%s/p.pid",dir); snprintf(errlog,sizeof errlog,"%s/stderr.log",dir);
  for(int i=0;i<n;i++) for(int j0=0;j0<k;j0++){ int j=(j0+i)%k; char s[256],exe[512],stop[512];
      snprintf(s,sizeof s,"%s",argv[4+j]); char*extra=strchr(s,':'); if(extra)*extra++=0;
      snprintf(exe,sizeof exe,"%s/%s",R,s);
      int ours=strncmp(s,"tick_macro",10)==0||strcmp(s,"tick_builder")==0;
      if(ours){ char*a[]={exe,"--daemon","--pid-file",pid,extra,NULL}; st[j*n+i]=run(a); char*b[]={exe,"--stop","--pid-file",pid,NULL}; sp[j*n+i]=run(b);}
      else { snprintf(stop,sizeof stop,"%s/stop_pidfd",R); char*a[]={exe,"--pid-file",pid,NULL}; st[j*n+i]=run(a); char*b[]={stop,"--pid-file",pid,NULL}; sp[j*n+i]=run(b);} }
  for(int j=0;j<k;j++){ qsort(st+j*n,n,sizeof(double),cmp); qsort(sp+j*n,n,sizeof(double),cmp);
    printf("%-22s start %7.0f µs (p10 %5.0f p90 %5.0f)  stop %7.0f µs (p10 %5.0f p90 %5.0f)\n",argv[4+j],st[j*n+n/2],st[j*n+n/10],st[j*n+9*n/10],sp[j*n+n/2],sp[j*n+n/10],sp[j*n+9*n/10]);}
}
